-- Replays the Azure SDK for JavaScript's recording
-- recording_can_join_multiple_groups_with_filter (copied unchanged as
-- js_join_groups_with_filter_test.fixture.json).

describe("JS SDK recording can join multiple groups with filter", function()
  local hub = fixture.client{hub = "simplechat", api_version = "2023-07-01"}

  it("adds the connections a filter selects to two groups", function()
    hub:add_connections_to_groups({"group1", "group2"}, "userId eq 'user 1'")
  end)

  it("reads the service's problem+json answer to an invalid filter", function()
    local ok, err = pcall(hub.add_connections_to_groups, hub, {"group1", "group2"}, "invalid filter")
    assert.is_false(ok)
    assert.equal(400, err.status)
    assert.equal("Error.BadRequest", err.code)
    assert.match("Invalid syntax for 'invalid filter'", err.message, 1, true)
  end)
end)
