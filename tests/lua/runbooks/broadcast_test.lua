-- Tests of scripts/broadcast.lua. Its REST calls replay from
-- broadcast_test.fixture.json; re-record with
--   wps test --record tests/lua/runbooks/broadcast_test.lua

local runbook = require("runbook")
local BROADCAST = runbook.path("broadcast")

-- sent returns the paths the running test posted to, sorted: wps.each
-- sends concurrently.
local function sent()
  local out = {}
  for _, r in ipairs(fixture.requests()) do
    assert.equal("POST", r.method)
    out[#out + 1] = r.path
  end
  table.sort(out)
  return out
end

describe("broadcast.lua", function()
  it("sends the message to each user", function()
    local r = run_script(BROADCAST, "Your session ends in 5 minutes", "alice", "bob", "carol")
    assert.equal(0, r.status)
    assert.equal("sent to 3 of 3 users\n", r.output)
    assert.same({
      "/api/hubs/hub/users/alice/:send",
      "/api/hubs/hub/users/bob/:send",
      "/api/hubs/hub/users/carol/:send",
    }, sent())
    for _, req in ipairs(fixture.requests()) do
      assert.equal("Your session ends in 5 minutes", req.body)
      assert.equal("text/plain", req.content_type)
    end
  end)

  it("takes users from --users too, and sends JSON with a TTL", function()
    local r = run_script(BROADCAST, "--json", "--ttl", "30", "--users", "dave,erin", "--users", "frank", '{"text":"new version"}', "gina")
    assert.equal(0, r.status)
    assert.equal("sent to 4 of 4 users\n", r.output)
    assert.same({
      "/api/hubs/hub/users/dave/:send",
      "/api/hubs/hub/users/erin/:send",
      "/api/hubs/hub/users/frank/:send",
      "/api/hubs/hub/users/gina/:send",
    }, sent())
    for _, req in ipairs(fixture.requests()) do
      assert.equal("30", req.query.messageTtlSeconds)
      assert.same({text = "new version"}, json.decode(req.body))
    end
  end)

  it("sends one at a time with --concurrency 1", function()
    local r = run_script(BROADCAST, "--concurrency", "1", "hi", "u1", "u2", "u3")
    assert.equal(0, r.status)
    local paths = {}
    for _, req in ipairs(fixture.requests()) do paths[#paths + 1] = req.path end
    assert.same({"/api/hubs/hub/users/u1/:send", "/api/hubs/hub/users/u2/:send", "/api/hubs/hub/users/u3/:send"}, paths)
  end)

  runbook.refuses(BROADCAST, {
    {args = {}, error = "missing MESSAGE"},
    {args = {"hi"}, error = "no users given"},
    {args = {"hi", "alice", ""}, error = "USER must not be empty"},
    {args = {"--ttl", "500", "hi", "alice"}, error = "--ttl must be a whole number of seconds from 1 to 300, got 500"},
    {args = {"--json", "[oops", "alice"}, error = "--json: MESSAGE is not a JSON object or array"},
  })
end)
