-- broadcast.lua: send one message to many users, one REST call per user,
-- with bounded concurrency and a progress bar. Run with --help for usage.

local usage = [[
Usage: wps run scripts/broadcast.lua [flags] MESSAGE USER...

Send MESSAGE to each USER's connections with one send_to_user call per user,
at most --concurrency calls in flight, with a progress bar on a terminal.
Failures do not stop the run: they are listed at the end, and the script
fails if there were any. Users can also come from --users (comma-separated).

Flags:
  --concurrency N   at most N calls in flight (default 16)
  --ttl SECONDS     drop the message for clients that have not taken it
                    within SECONDS (1..300)
  --users LIST      comma-separated users, in addition to USER...
  --json            MESSAGE is JSON: send it as application/json
  -h, --help        show this help

Examples:
  wps run scripts/broadcast.lua "Your session ends in 5 minutes" alice bob carol
  wps run scripts/broadcast.lua --concurrency 32 --users "$(paste -sd, users.txt)" "New version available"
]]

-- parse splits argv into flags (as declared in spec: "value" or "switch")
-- and the remaining words.
local function parse(argv, spec)
  local flags, words = {}, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-h" or a == "--help" then
      flags.help = true
    elseif a == "--" then
      for j = i + 1, #argv do words[#words + 1] = argv[j] end
      break
    elseif a:sub(1, 2) == "--" then
      local name, value = a:match("^%-%-([%w-]+)=(.*)$")
      name = name or a:sub(3)
      if spec[name] == nil then error("unknown flag --" .. name .. " (run with --help for usage)", 0) end
      if spec[name] == "switch" then
        flags[name] = true
      else
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then error("flag --" .. name .. " needs a value", 0) end
        end
        flags[name] = value
      end
    else
      words[#words + 1] = a
    end
    i = i + 1
  end
  return flags, words
end

local flags, words = parse(args, {concurrency = "value", ttl = "value", users = "value", json = "switch"})
if flags.help then
  print(usage)
  return
end
local message = table.remove(words, 1)
if message == nil then error("missing MESSAGE (run with --help for usage)", 0) end
if flags.json then
  local ok, decoded = pcall(json.decode, message)
  if not ok or type(decoded) ~= "table" then error("--json: MESSAGE is not a JSON object or array", 0) end
  message = decoded
end

local users = {}
local function add(list)
  for user in list:gmatch("[^,%s]+") do users[#users + 1] = user end
end
for _, w in ipairs(words) do users[#users + 1] = w end
if flags.users then add(flags.users) end
if #users == 0 then error("no users given (run with --help for usage)", 0) end

local concurrency = tonumber(flags.concurrency or "16")
if concurrency == nil then error("--concurrency: not a number: " .. flags.concurrency, 0) end
local opts = {}
if flags.ttl then
  opts.ttl = tonumber(flags.ttl)
  if opts.ttl == nil then error("--ttl: not a number: " .. flags.ttl, 0) end
end

local results = wps.each(users, function(user)
  wps.send_to_user(user, message, opts)
end, {concurrency = concurrency})

local failed = {}
for i, r in ipairs(results) do
  if not r.ok then failed[#failed + 1] = ("  %s: %s"):format(users[i], tostring(r.error)) end
end
print(("sent to %d of %d users"):format(#users - #failed, #users))
if #failed > 0 then
  print("failed:")
  print(table.concat(failed, "\n"))
  error(("%d sends failed"):format(#failed), 0)
end
