-- permissions.lua: grant or revoke a group permission for a list of
-- connections. Run with --help for usage.

local usage = [[
Usage: wps run scripts/permissions.lua grant|revoke PERMISSION GROUP CONNECTION_ID...

Grant or revoke PERMISSION (sendToGroup or joinLeaveGroup) on GROUP for every
CONNECTION_ID, concurrently, then check that each connection now has (or no
longer has) it. Prints one line per connection and fails if any did not
take effect.

Flags:
  --all-groups      act on every group instead of GROUP (then omit GROUP)
  --concurrency N   at most N calls in flight (default 8)
  -h, --help        show this help

Examples:
  wps run scripts/permissions.lua grant sendToGroup ops conn1 conn2
  wps run scripts/permissions.lua revoke joinLeaveGroup ops conn1
  wps run scripts/permissions.lua --all-groups revoke sendToGroup conn1
]]


local opts, words = flags.parse(args, {["all-groups"] = "boolean", concurrency = "number"}, usage)
local action, permission = words[1], words[2]
if action ~= "grant" and action ~= "revoke" then
  flags.usage_error("the first argument must be grant or revoke")
end
if permission ~= "sendToGroup" and permission ~= "joinLeaveGroup" then
  flags.usage_error("PERMISSION must be sendToGroup or joinLeaveGroup, got " .. tostring(permission))
end
local group, first = words[3], 4
if opts["all-groups"] then group, first = nil, 3 end
if group == "" then flags.usage_error("GROUP must not be empty") end
local connections = {}
for i = first, #words do connections[#connections + 1] = words[i] end
if #connections == 0 then flags.usage_error("missing CONNECTION_ID") end
local concurrency = opts.concurrency or 8
if concurrency < 1 or concurrency > 1000 or concurrency % 1 ~= 0 then
  flags.usage_error("--concurrency must be a whole number from 1 to 1000, got " .. concurrency)
end

local operation = action == "grant" and wps.grant_permission or wps.revoke_permission
local want = action == "grant"
local results = wps.each(connections, function(id)
  operation(permission, id, {target_name = group})
  local has = wps.check_permission(permission, id, {target_name = group})
  if has ~= want then error(("%s did not take effect"):format(action), 0) end
  return has
end, {concurrency = concurrency})

local scope = group and ("group " .. group) or "every group"
local failed = 0
for i, r in ipairs(results) do
  if r.ok then
    print(("%s: %s %s on %s"):format(connections[i], want and "has" or "no longer has", permission, scope))
  else
    failed = failed + 1
    print(("%s: FAILED: %s"):format(connections[i], tostring(r.error)))
  end
end
if failed > 0 then error(("%d of %d connections failed"):format(failed, #connections), 0) end
