-- Replays the Azure SDK for Python's vcrpy cassette
-- test_smoke.test_send_with_filter (copied unchanged as
-- python_vcr_send_with_filter_test.fixture.yaml).

describe("Python SDK cassette test_send_with_filter", function()
  local hub = fixture.client{api_version = "2022-11-01"}

  it("sends text to the connections an OData filter selects", function()
    hub:send_to_all("hello=world%21", {filter = wps.filter("userId ne {}", "user1")})
    assert.equal("userId ne 'user1'", fixture.requests()[1].query.filter)
  end)
end)
