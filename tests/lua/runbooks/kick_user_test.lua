-- Tests of scripts/kick_user.lua. Its REST calls replay from
-- kick_user_test.fixture.json; re-record with
--   wps test --record tests/lua/runbooks/kick_user_test.lua

local runbook = require("runbook")
local KICK = runbook.path("kick_user")

-- calls lists the requests the running test made, as "METHOD path".
local function calls()
  local out = {}
  for _, r in ipairs(fixture.requests()) do out[#out + 1] = r.method .. " " .. r.path end
  return out
end

describe("kick_user.lua", function()
  it("closes a connected user's connections with the reason and removes the user from every group", function()
    if fixture.mode ~= "replay" then
      -- Client connections are not recorded: mallory connects only when
      -- recording (or live); the REST calls below replay either way.
      wps.connect{user_id = "mallory"}
    end
    wps.add_user_to_group("lobby", "mallory")

    local r = run_script(KICK, "--reason", "abuse report 1234", "mallory")
    assert.equal(0, r.status)
    assert.equal("mallory: connections closed, removed from all groups\n", r.output)
    assert.same({
      "PUT /api/hubs/hub/users/mallory/groups/lobby",
      "HEAD /api/hubs/hub/users/mallory",
      "POST /api/hubs/hub/users/mallory/:closeConnections",
      "DELETE /api/hubs/hub/users/mallory/groups",
    }, calls())
    assert.equal("abuse report 1234", fixture.requests()[3].query.reason)
  end)

  it("says so for a user who is not connected, and still removes them from every group", function()
    local r = run_script(KICK, "nobody")
    assert.equal(0, r.status)
    assert.equal("nobody: was not connected, removed from all groups\n", r.output)
    assert.equal("kicked by an operator", fixture.requests()[2].query.reason)
  end)

  it("kicks several users in order", function()
    local r = run_script(KICK, "trudy", "eve")
    assert.equal(0, r.status)
    assert.equal("trudy: was not connected, removed from all groups\neve: was not connected, removed from all groups\n", r.output)
    assert.same({
      "HEAD /api/hubs/hub/users/trudy",
      "POST /api/hubs/hub/users/trudy/:closeConnections",
      "DELETE /api/hubs/hub/users/trudy/groups",
      "HEAD /api/hubs/hub/users/eve",
      "POST /api/hubs/hub/users/eve/:closeConnections",
      "DELETE /api/hubs/hub/users/eve/groups",
    }, calls())
  end)

  runbook.refuses(KICK, {
    {args = {}, error = "missing USER"},
    {args = {"mallory", ""}, error = "USER must not be empty"},
  })
end)
