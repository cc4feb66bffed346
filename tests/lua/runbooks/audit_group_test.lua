-- Tests of scripts/audit_group.lua. Its REST calls replay from
-- audit_group_test.fixture.json; re-record with
--   wps test --record tests/lua/runbooks/audit_group_test.lua

local runbook = require("runbook")
local AUDIT = runbook.path("audit_group")

describe("audit_group.lua", function()
  local alice, bob

  setup(function()
    -- Two members of group ops. Client connections are not recorded, so
    -- they are opened only when recording; their ids replay from the
    -- fixture's Variables. The REST calls replay either way.
    alice = fixture.variable("alice", function() return wps.connect{user_id = "alice"}.connection_id end)
    bob = fixture.variable("bob", function() return wps.connect{user_id = "bob"}.connection_id end)
    wps.add_connection_to_group("ops", alice)
    wps.add_connection_to_group("ops", bob)
    wps.grant_permission("sendToGroup", bob, {target_name = "ops"})
  end)

  it("lists each member with both permissions", function()
    local r = run_script(AUDIT, "ops")
    assert.equal(0, r.status)
    local out = runbook.lines(r.output)
    assert.equal("group ops: 2 connection(s)", out[1])
    assert.equal("connection\tuser\tsendToGroup\tjoinLeaveGroup", out[2])
    assert.same(runbook.sorted{alice .. "\talice\tno\tno", bob .. "\tbob\tyes\tno"}, runbook.sorted{out[3], out[4]})
    assert.equal(4, #out)
  end)

  it("checks only --permission", function()
    local r = run_script(AUDIT, "--permission", "sendToGroup", "--concurrency", "1", "ops")
    assert.equal(0, r.status)
    local out = runbook.lines(r.output)
    assert.equal("connection\tuser\tsendToGroup", out[2])
    assert.same(runbook.sorted{alice .. "\talice\tno", bob .. "\tbob\tyes"}, runbook.sorted{out[3], out[4]})
  end)

  it("reports an empty group", function()
    local r = run_script(AUDIT, "nobody-here")
    assert.equal(0, r.status)
    assert.equal("group nobody-here: 0 connection(s)\n", r.output)
  end)

  runbook.refuses(AUDIT, {
    {args = {}, error = "give exactly one GROUP"},
    {args = {"a", "b"}, error = "give exactly one GROUP"},
    {args = {""}, error = "GROUP must not be empty"},
    {args = {"--permission", "admin", "ops"}, error = "--permission must be sendToGroup or joinLeaveGroup, got admin"},
    {args = {"--concurrency", "0", "ops"}, error = "--concurrency must be a whole number from 1 to 1000, got 0"},
  })
end)
