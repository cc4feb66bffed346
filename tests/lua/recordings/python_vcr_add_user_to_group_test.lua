-- Replays the Azure SDK for Python's vcrpy cassette
-- test_smoke.test_add_user_to_group (copied unchanged as
-- python_vcr_add_user_to_group_test.fixture.yaml): API version 2021-10-01.

describe("Python SDK cassette test_add_user_to_group", function()
  local hub = fixture.client{api_version = "2021-10-01"}

  it("gets 404 Warning.User.NotExisted adding an unknown user to a group", function()
    local ok, err = pcall(hub.add_user_to_group, hub, "some_group", "some_user")
    assert.is_false(ok)
    assert.equal(404, err.status)
    assert.equal("Warning.User.NotExisted", err.code)
  end)
end)
