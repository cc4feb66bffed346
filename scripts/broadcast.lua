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
  --users LIST      comma-separated users, in addition to USER...;
                    may be given more than once
  --json            MESSAGE is JSON: send it as application/json
  -h, --help        show this help

Examples:
  wps run scripts/broadcast.lua "Your session ends in 5 minutes" alice bob carol
  wps run scripts/broadcast.lua --concurrency 32 --users "$(paste -sd, users.txt)" "New version available"
]]


local opts, words = flags.parse(args, {concurrency = "number", ttl = "number", users = {"string"}, json = "boolean"}, usage)
local message = table.remove(words, 1)
if message == nil then flags.usage_error("missing MESSAGE") end
if opts.json then
  local ok, decoded = pcall(json.decode, message)
  if not ok or type(decoded) ~= "table" then flags.usage_error("--json: MESSAGE is not a JSON object or array") end
  message = decoded
end

local users = {}
local function add(list)
  for user in list:gmatch("[^,%s]+") do users[#users + 1] = user end
end
for _, w in ipairs(words) do users[#users + 1] = w end
for _, list in ipairs(opts.users) do add(list) end
if #users == 0 then flags.usage_error("no users given") end
for _, user in ipairs(users) do
  if user == "" then flags.usage_error("USER must not be empty") end
end
if opts.ttl and (opts.ttl < 1 or opts.ttl > 300 or opts.ttl % 1 ~= 0) then
  flags.usage_error("--ttl must be a whole number of seconds from 1 to 300, got " .. opts.ttl)
end
local concurrency = opts.concurrency or 16
if concurrency < 1 or concurrency > 1000 or concurrency % 1 ~= 0 then
  flags.usage_error("--concurrency must be a whole number from 1 to 1000, got " .. concurrency)
end

local send_opts = {ttl = opts.ttl}

local results = wps.each(users, function(user)
  wps.send_to_user(user, message, send_opts)
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
