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
  wps run --hub chat scripts/announce.lua --json '{"type":"notice","text":"hi"}'
]]


local opts, words = flags.parse(args, {group = "string", ttl = "number", filter = "string", json = "boolean"}, usage)
if #words == 0 then flags.usage_error("missing MESSAGE") end
if opts.group == "" then flags.usage_error("--group must not be empty") end
if opts.ttl and (opts.ttl < 1 or opts.ttl > 300 or opts.ttl % 1 ~= 0) then
  flags.usage_error("--ttl must be a whole number of seconds from 1 to 300, got " .. opts.ttl)
end

local message = table.concat(words, " ")
if opts.json then
  local ok, decoded = pcall(json.decode, message)
  if not ok or type(decoded) ~= "table" then flags.usage_error("--json: MESSAGE is not a JSON object or array") end
  message = decoded
end
local send_opts = {filter = opts.filter, ttl = opts.ttl}

if opts.group then
  wps.send_to_group(opts.group, message, send_opts)
  print("announced to group " .. opts.group)
else
  wps.send_to_all(message, send_opts)
  print("announced to every connection of the hub")
end
