-- Tests of scripts/audit_group.lua. Its REST calls replay from
-- audit_group_test.fixture.json; re-record with
--   wps test --record tests/lua/runbooks/audit_group_test.lua

local AUDIT = "../../../scripts/audit_group.lua"

-- sorted returns the lines of text, sorted: the audit's checks run
-- concurrently, but its rows follow the group's listing.
local function lines(text)
  local out = {}
  for l in text:gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

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
    local out = lines(r.output)
    assert.equal("group ops: 2 connection(s)", out[1])
    assert.equal("connection\tuser\tsendToGroup\tjoinLeaveGroup", out[2])
    local rows = {out[3], out[4]}
    table.sort(rows)
    local want = {alice .. "\talice\tno\tno", bob .. "\tbob\tyes\tno"}
    table.sort(want)
    assert.same(want, rows)
    assert.equal(4, #out)
  end)

  it("checks only --permission", function()
    local r = run_script(AUDIT, "--permission", "sendToGroup", "--concurrency", "1", "ops")
    assert.equal(0, r.status)
    local out = lines(r.output)
    assert.equal("connection\tuser\tsendToGroup", out[2])
    local rows = {out[3], out[4]}
    table.sort(rows)
    local want = {alice .. "\talice\tno", bob .. "\tbob\tyes"}
    table.sort(want)
    assert.same(want, rows)
  end)

  it("reports an empty group", function()
    local r = run_script(AUDIT, "nobody-here")
    assert.equal(0, r.status)
    assert.equal("group nobody-here: 0 connection(s)\n", r.output)
  end)

  describe("refuses bad arguments before any call", function()
    for _, case in ipairs({
      {args = {}, error = "give exactly one GROUP"},
      {args = {"a", "b"}, error = "give exactly one GROUP"},
      {args = {""}, error = "GROUP must not be empty"},
      {args = {"--permission", "admin", "ops"}, error = "--permission must be sendToGroup or joinLeaveGroup, got admin"},
      {args = {"--concurrency", "0", "ops"}, error = "--concurrency must be a whole number from 1 to 1000, got 0"},
    }) do
      it(table.concat(case.args, " "), function()
        local r = run_script(AUDIT, unpack(case.args))
        assert.equal(2, r.status)
        assert.match(case.error, r.error, 1, true)
        assert.same({}, fixture.requests())
      end)
    end
  end)
end)
