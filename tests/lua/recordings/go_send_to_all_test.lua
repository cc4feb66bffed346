-- Replays the Azure SDK for Go's recording TestClient_SendToAll
-- (../shared/recordings/go/TestClient_SendToAll.json, copied unchanged as
-- go_send_to_all_test.fixture.json): the same three calls, made from Lua.

describe("Go SDK recording TestClient_SendToAll", function()
  local hub = fixture.client{hub = "hub1", api_version = "2023-07-01"}

  it("sends text, JSON and binary messages to the whole hub", function()
    hub:send_to_all("Hello world!")
    hub:send_to_all("true", {content_type = "application/json"})
    hub:send_to_all(wps.binary("true"))
    local types = {}
    for _, r in ipairs(fixture.requests()) do
      assert.equal(202, r.status)
      types[#types + 1] = r.content_type
    end
    assert.same({"text/plain", "application/json", "application/octet-stream"}, types)
  end)
end)
