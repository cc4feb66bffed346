-- Replays the Azure SDK for Python's most complete recording,
-- test_live_api_coverage_all_apis_and_parameters (46 calls against a live
-- hub; copied unchanged, CRLF line endings and all, as
-- python_live_api_coverage_test.fixture.json), making the same calls from
-- Lua in the same order. Connection ids come from the recorded listings,
-- as the Python test took them from the service.
--
-- Entry 0 is POST :generateToken (an MQTT client token); wps signs client
-- tokens locally, so that entry stays unused.

describe("Python SDK recording test_live_api_coverage_all_apis_and_parameters", function()
  local function first_connection(group)
    local members = wps.list_connections(group, {top = 20})
    assert.equal(1, #members)
    return members[1].connection_id
  end

  local json_msg, text_msg, binary_msg = {kind = "json"}, "plain", wps.binary("binary")
  local filter = wps.filter("userId eq {}", "live-user-1")
  local conn

  it("checks health, lists a group and checks existence", function()
    assert.is_true(wps.service_status())
    conn = first_connection("group-live-1")
    assert.equal("__O3HM8fu3P8qE_PidojywmtbNwgK02", conn)
    assert.is_true(wps.connection_exists(conn))
    assert.is_true(wps.user_exists("live-user-1"))
    assert.is_true(wps.group_exists("group-live-1"))
  end)

  it("sends JSON, text and binary to the hub, a group, a connection and a user", function()
    local excluded = {excluded = {conn, "fake-conn-id"}}
    wps.send_to_all(json_msg, excluded)
    wps.send_to_all(text_msg, {filter = filter})
    wps.send_to_all(binary_msg)
    wps.send_to_group("group-live-1", json_msg, excluded)
    wps.send_to_group("group-live-1", text_msg, {filter = filter})
    wps.send_to_group("group-live-1", binary_msg)
    wps.send_to_connection(conn, json_msg)
    wps.send_to_connection(conn, text_msg)
    wps.send_to_connection(conn, binary_msg)
    wps.send_to_user("live-user-1", json_msg, {filter = filter})
    wps.send_to_user("live-user-1", text_msg)
    wps.send_to_user("live-user-1", binary_msg)
    assert.equal(12, #fixture.requests())
  end)

  it("manages group membership, by connection, by filter and by user", function()
    wps.add_connection_to_group("group-live-2", conn)
    assert.equal(conn, first_connection("group-live-2"))
    wps.add_connections_to_groups({"group-live-3"}, filter)
    assert.equal(conn, first_connection("group-live-3"))
  end)

  it("grants, checks and revokes a permission", function()
    local opts = {target_name = "group-live-1"}
    wps.grant_permission("sendToGroup", conn, opts)
    assert.is_true(wps.check_permission("sendToGroup", conn, opts))
    assert.is_true(wps.check_permission("sendToGroup", conn, opts))
    wps.revoke_permission("sendToGroup", conn, opts)
  end)

  it("adds and removes a user, and removes from groups every way", function()
    wps.add_user_to_group("group-live-4", "live-user-1")
    wps.remove_user_from_group("group-live-4", "live-user-1")
    wps.remove_connections_from_groups({"group-live-3"}, filter)
    wps.remove_connection_from_group("group-live-2", conn)
    wps.remove_connection_from_all_groups(conn)
    wps.remove_user_from_all_groups("live-user-1")
  end)

  it("closes connections every way, with a reason, and sees them gone", function()
    local reason = {reason = "live-coverage"}
    local c = first_connection("group-live-1")
    wps.close_group_connections("group-live-1", reason)
    assert.is_false(wps.connection_exists(c))
    c = first_connection("group-live-1")
    wps.close_user_connections("live-user-1", reason)
    assert.is_false(wps.connection_exists(c))
    c = first_connection("group-live-1")
    wps.close_connection(c, reason)
    assert.is_false(wps.connection_exists(c))
    c = first_connection("group-live-1")
    wps.close_all_connections(reason)
    assert.is_false(wps.connection_exists(c))
  end)

  it("reads 404 as false for a user and a group that do not exist", function()
    assert.is_false(wps.user_exists("live-user-not-exist"))
    assert.is_false(wps.group_exists("live-group-not-exist"))
  end)

  pending("POST :generateToken for an MQTT client (wps signs client tokens locally)")
end)
