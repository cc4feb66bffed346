-- Replays the Azure SDK for Go's recording TestClient_CloseConnections
-- (copied unchanged as go_close_connections_test.fixture.json).

describe("Go SDK recording TestClient_CloseConnections", function()
  local hub = fixture.client{hub = "chat", api_version = "2023-07-01"}
  local opts = {excluded = {"conn1"}, reason = "TestClient_CloseConnections"}

  it("closes every connection but one, with a reason", function()
    hub:close_all_connections(opts)
  end)

  it("closes one connection with a reason", function()
    hub:close_connection("conn1", {reason = "TestClient_CloseConnections"})
  end)

  it("closes a group's and a user's connections", function()
    hub:close_group_connections("group1", opts)
    hub:close_user_connections("user1", opts)
    assert.equal(2, #fixture.requests())
  end)
end)
