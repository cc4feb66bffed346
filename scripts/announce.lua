-- announce.lua: send an announcement to every connection of the hub, or to
-- one group. Run with --help for usage.

local usage = [[
Usage: wps run scripts/announce.lua [flags] MESSAGE...

Send MESSAGE (the arguments joined by spaces) to every connection of the hub,
or only to the connections in one group. Clients receive it as text, or as
JSON with --json.

Flags:
  --group NAME      send to this group instead of the whole hub
  --ttl SECONDS     drop the message for clients that have not taken it
                    within SECONDS (1..300); default: never
  --filter ODATA    only connections this OData filter selects,
                    e.g. "userId ne 'bot'"
  --json            MESSAGE is JSON: send it as application/json
  -h, --help        show this help

Examples:
  wps run scripts/announce.lua "Maintenance at 18:00 UTC"
  wps run scripts/announce.lua --group ops --ttl 60 "Deploy starting"
  wps --hub chat run scripts/announce.lua --json '{"type":"notice","text":"hi"}'
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

local flags, words = parse(args, {group = "value", ttl = "value", filter = "value", json = "switch"})
if flags.help then
  print(usage)
  return
end
if #words == 0 then error("missing MESSAGE (run with --help for usage)", 0) end

local message = table.concat(words, " ")
if flags.json then
  local ok, decoded = pcall(json.decode, message)
  if not ok or type(decoded) ~= "table" then error("--json: MESSAGE is not a JSON object or array", 0) end
  message = decoded
end
local opts = {filter = flags.filter}
if flags.ttl then
  opts.ttl = tonumber(flags.ttl)
  if opts.ttl == nil then error("--ttl: not a number: " .. flags.ttl, 0) end
end

if flags.group then
  wps.send_to_group(flags.group, message, opts)
  print("announced to group " .. flags.group)
else
  wps.send_to_all(message, opts)
  print("announced to every connection of the hub")
end
