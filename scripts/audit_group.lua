-- audit_group.lua: list the members of a group and check their
-- permissions on it. Run with --help for usage.

local usage = [[
Usage: wps run scripts/audit_group.lua [flags] GROUP

List every connection in GROUP with its user, and check for each one whether
it holds the sendToGroup and joinLeaveGroup permissions on GROUP (the checks
run concurrently). Prints one row per connection and a summary.

Flags:
  --permission P    check only P (sendToGroup or joinLeaveGroup)
  --concurrency N   at most N checks in flight (default 8)
  -h, --help        show this help

Examples:
  wps run scripts/audit_group.lua ops
  wps run --hub chat scripts/audit_group.lua --permission sendToGroup lobby
]]


local opts, words = flags.parse(args, {permission = "string", concurrency = "number"}, usage)
if #words ~= 1 then flags.usage_error("give exactly one GROUP") end
local group = words[1]
if group == "" then flags.usage_error("GROUP must not be empty") end
local permissions = {"sendToGroup", "joinLeaveGroup"}
if opts.permission then
  if opts.permission ~= "sendToGroup" and opts.permission ~= "joinLeaveGroup" then
    flags.usage_error("--permission must be sendToGroup or joinLeaveGroup, got " .. opts.permission)
  end
  permissions = {opts.permission}
end
local concurrency = opts.concurrency or 8
if concurrency < 1 or concurrency > 1000 or concurrency % 1 ~= 0 then
  flags.usage_error("--concurrency must be a whole number from 1 to 1000, got " .. concurrency)
end

local members = wps.list_connections(group)
print(("group %s: %d connection(s)"):format(group, #members))
if #members == 0 then return end

local results = wps.each(members, function(member)
  local row = {member.connection_id, member.user_id or "-"}
  for _, p in ipairs(permissions) do
    row[#row + 1] = wps.check_permission(p, member.connection_id, {target_name = group}) and "yes" or "no"
  end
  return table.concat(row, "\t")
end, {concurrency = concurrency})

print("connection\tuser\t" .. table.concat(permissions, "\t"))
local failed = 0
for i, r in ipairs(results) do
  if r.ok then
    print(r.value)
  else
    failed = failed + 1
    print(("%s\tFAILED: %s"):format(members[i].connection_id, tostring(r.error)))
  end
end
if failed > 0 then error(("%d of %d checks failed"):format(failed, #members), 0) end
