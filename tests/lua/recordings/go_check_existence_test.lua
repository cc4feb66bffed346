-- Replays the Azure SDK for Go's recording TestClient_CheckExistence
-- (copied unchanged as go_check_existence_test.fixture.json): HEAD
-- requests answered 404 with x-ms-error-code and no body.

describe("Go SDK recording TestClient_CheckExistence", function()
  local hub = fixture.client{hub = "chat", api_version = "2023-07-01"}

  it("reads 404 as false for a user, a group and a connection", function()
    assert.is_false(hub:user_exists("user1"))
    assert.is_false(hub:group_exists("group1"))
    assert.is_false(hub:connection_exists("conn1"))
  end)
end)
