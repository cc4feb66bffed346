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
  wps run --hub chat scripts/kick_user.lua --reason "abuse report 1234" mallory trudy
]]


local opts, users = flags.parse(args, {reason = "string"}, usage)
if #users == 0 then flags.usage_error("missing USER") end
for _, user in ipairs(users) do
  if user == "" then flags.usage_error("USER must not be empty") end
end
local reason = opts.reason or "kicked by an operator"

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
