-- Tests of scripts/permissions.lua. Its REST calls replay from
-- permissions_test.fixture.json; re-record with
--   wps test --record tests/lua/runbooks/permissions_test.lua

local runbook = require("runbook")
local PERMISSIONS = runbook.path("permissions")

describe("permissions.lua", function()
  local c1, c2

  setup(function()
    -- Client connections are not recorded: they are opened only when
    -- recording, and their ids replay from the fixture's Variables.
    c1 = fixture.variable("c1", function() return wps.connect{user_id = "u1"}.connection_id end)
    c2 = fixture.variable("c2", function() return wps.connect{user_id = "u2"}.connection_id end)
  end)

  it("grants a permission on a group to every connection and checks it took effect", function()
    local r = run_script(PERMISSIONS, "grant", "sendToGroup", "ops", c1, c2)
    assert.equal(0, r.status)
    assert.same(runbook.sorted{c1 .. ": has sendToGroup on group ops", c2 .. ": has sendToGroup on group ops"}, runbook.lines(r.output, true))
    for _, req in ipairs(fixture.requests()) do
      assert.equal("ops", req.query.targetName)
    end
    assert.equal(4, #fixture.requests())
  end)

  it("revokes it again", function()
    local r = run_script(PERMISSIONS, "revoke", "sendToGroup", "ops", c1)
    assert.equal(0, r.status)
    assert.equal(c1 .. ": no longer has sendToGroup on group ops\n", r.output)
    local methods = {}
    for _, req in ipairs(fixture.requests()) do methods[#methods + 1] = req.method end
    assert.same({"DELETE", "HEAD"}, methods)
  end)

  it("acts on every group with --all-groups", function()
    local r = run_script(PERMISSIONS, "--all-groups", "grant", "joinLeaveGroup", c2)
    assert.equal(0, r.status)
    assert.equal(c2 .. ": has joinLeaveGroup on every group\n", r.output)
    assert.is_nil(fixture.requests()[1].query.targetName)
  end)

  it("fails, naming the connection, when a connection does not exist", function()
    local r = run_script(PERMISSIONS, "grant", "sendToGroup", "ops", "no-such-connection")
    assert.equal(1, r.status)
    assert.equal("1 of 1 connections failed", r.error)
    -- The error's wording belongs to the wps module; its operation and status do not change.
    assert.match("^no%-such%-connection: FAILED: .*grant_permission.*404", r.output)
  end)

  runbook.refuses(PERMISSIONS, {
    {args = {"give", "sendToGroup", "ops", "c"}, error = "the first argument must be grant or revoke"},
    {args = {"grant", "admin", "ops", "c"}, error = "PERMISSION must be sendToGroup or joinLeaveGroup, got admin"},
    {args = {"grant", "sendToGroup", "ops"}, error = "missing CONNECTION_ID"},
    {args = {"grant", "sendToGroup", "", "c"}, error = "GROUP must not be empty"},
    {args = {"--concurrency", "2000", "grant", "sendToGroup", "ops", "c"}, error = "--concurrency must be a whole number from 1 to 1000"},
  })
end)
