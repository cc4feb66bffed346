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
  wps --hub chat run scripts/audit_group.lua --permission sendToGroup lobby
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

local flags, words = parse(args, {permission = "value", concurrency = "value"})
if flags.help then
  print(usage)
  return
end
if #words ~= 1 then error("give exactly one GROUP (run with --help for usage)", 0) end
local group = words[1]
local permissions = {"sendToGroup", "joinLeaveGroup"}
if flags.permission then permissions = {flags.permission} end
local concurrency = tonumber(flags.concurrency or "8")
if concurrency == nil then error("--concurrency: not a number: " .. flags.concurrency, 0) end

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
