-- Replays the Azure SDK for Python's recording
-- test_generated_api_coverage test_list_connections (copied unchanged as
-- python_list_connections_test.fixture.json; CRLF line endings).

describe("Python SDK recording test_list_connections", function()
  local hub = fixture.client{hub = "apicoverage"}

  it("lists an empty group with top", function()
    assert.same({}, hub:list_connections("group1", {top = 10}))
  end)
end)
