-- Tests of scripts/announce.lua. Its REST calls replay from
-- announce_test.fixture.json; re-record with
--   wps test --record tests/lua/runbooks/announce_test.lua

local runbook = require("runbook")
local ANNOUNCE = runbook.path("announce")

describe("announce.lua", function()
  it("sends the message as text to every connection of the hub", function()
    local r = run_script(ANNOUNCE, "Maintenance", "at", "18:00")
    assert.equal(0, r.status)
    assert.equal("announced to every connection of the hub\n", r.output)
    local sent = fixture.requests()
    assert.equal(1, #sent)
    assert.equal("POST", sent[1].method)
    assert.equal("/api/hubs/hub/:send", sent[1].path)
    assert.equal("text/plain", sent[1].content_type)
    assert.equal("Maintenance at 18:00", sent[1].body)
  end)

  it("sends to one group with a TTL and a filter", function()
    local r = run_script(ANNOUNCE, "--group", "ops", "--ttl", "60", "--filter", "userId ne 'bot'", "Deploy starting")
    assert.equal(0, r.status)
    assert.equal("announced to group ops\n", r.output)
    local sent = fixture.requests()[1]
    assert.equal("/api/hubs/hub/groups/ops/:send", sent.path)
    assert.same({["api-version"] = "2024-12-01", filter = "userId ne 'bot'", messageTtlSeconds = "60"}, sent.query)
  end)

  it("sends --json messages as JSON", function()
    local r = run_script(ANNOUNCE, "--json", '{"type":"notice","text":"hi"}')
    assert.equal(0, r.status)
    local sent = fixture.requests()[1]
    assert.equal("application/json", sent.content_type)
    assert.same({type = "notice", text = "hi"}, json.decode(sent.body))
  end)

  runbook.refuses(ANNOUNCE, {
    {args = {}, error = "missing MESSAGE"},
    {args = {"--group", "", "hi"}, error = "--group must not be empty"},
    {args = {"--ttl", "0", "hi"}, error = "--ttl must be a whole number of seconds from 1 to 300, got 0"},
    {args = {"--ttl", "2.5", "hi"}, error = "--ttl must be a whole number"},
    {args = {"--json", "not json"}, error = "--json: MESSAGE is not a JSON object or array"},
    {args = {"--grup", "ops", "hi"}, error = "--grup"}, -- an unknown flag
  })

  it("prints its usage with --help", function()
    local r = run_script(ANNOUNCE, "--help")
    assert.equal(0, r.status)
    assert.match("^Usage: wps run scripts/announce.lua", r.output)
  end)
end)
