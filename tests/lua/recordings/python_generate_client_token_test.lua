-- The Azure SDK for Python's recording test_generated_api_coverage
-- test_generate_client_token (copied unchanged as
-- python_generate_client_token_test.fixture.json) asks the service for a
-- client token with POST :generateToken. wps signs client tokens locally,
-- as the Go and JavaScript SDKs do, so no Lua call makes that request:
-- the test checks the local token instead, and the recorded entry stays
-- unused (reported, and a failure under --strict).

describe("Python SDK recording test_generate_client_token", function()
  local hub = fixture.client{hub = "apicoverage"}

  it("signs the same token locally, with no request", function()
    local token = hub:get_client_access_token{user_id = "user1", roles = {"webpubsub.sendToGroup"}, minutes_to_expire = 10, groups = {"group1"}}
    assert.match("/client/hubs/apicoverage%?access_token=", token.url)
    assert.same({}, fixture.requests())
  end)

  pending("POST :generateToken (wps signs client tokens locally)")
end)
