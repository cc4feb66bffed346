-- Replays the Azure SDK for Go's recording TestClient_ManagePermissions
-- (copied unchanged as go_manage_permissions_test.fixture.json).

describe("Go SDK recording TestClient_ManagePermissions", function()
  local hub = fixture.client{hub = "chat", api_version = "2023-07-01"}

  it("gets 404 granting a permission to a connection that does not exist", function()
    local ok, err = pcall(hub.grant_permission, hub, "joinLeaveGroup", "conn1", {target_name = "group1"})
    assert.is_false(ok)
    assert.equal(404, err.status)
    assert.equal("Info.Connection.NotExisted", err.code)
    assert.equal("grant_permission", err.operation)
  end)

  it("revokes it without an error", function()
    hub:revoke_permission("joinLeaveGroup", "conn1", {target_name = "group1"})
  end)
end)
