-- kick_user.lua: disconnect users and take them out of every group.
-- Run with --help for usage.

local usage = [[
Usage: wps run scripts/kick_user.lua [flags] USER...

For each USER: close all of the user's connections, giving them a reason,
and remove the user from every group (so that a reconnect does not bring the
memberships back). Prints one line per user and fails if any step failed.

Flags:
  --reason TEXT     the reason the clients are given (default: "kicked by an operator")
  -h, --help        show this help

Examples:
  wps run scripts/kick_user.lua mallory
  wps --hub chat run scripts/kick_user.lua --reason "abuse report 1234" mallory trudy
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

local flags, users = parse(args, {reason = "value"})
if flags.help then
  print(usage)
  return
end
if #users == 0 then error("missing USER (run with --help for usage)", 0) end
local reason = flags.reason or "kicked by an operator"

local failed = 0
for _, user in ipairs(users) do
  local was_connected = wps.user_exists(user)
  local ok, err = pcall(function()
    wps.close_user_connections(user, {reason = reason})
    wps.remove_user_from_all_groups(user)
  end)
  if ok then
    print(("%s: %s, removed from all groups"):format(user, was_connected and "connections closed" or "was not connected"))
  else
    failed = failed + 1
    print(("%s: FAILED: %s"):format(user, tostring(err)))
  end
end
if failed > 0 then error(("%d of %d users could not be kicked"):format(failed, #users), 0) end
