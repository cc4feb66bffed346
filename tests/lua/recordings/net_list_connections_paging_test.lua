-- Replays the Azure SDK for .NET's recording
-- ServiceClientCanListConnectionsInGroupWithContinuationToken (copied
-- unchanged as net_list_connections_paging_test.fixture.json): one
-- connection a page, the second page reached through nextLink.

describe(".NET SDK recording ServiceClientCanListConnectionsInGroupWithContinuationToken", function()
  local name = "serviceclientcanlistconnectionsingroupwithcontinuationtoken"
  local hub = fixture.client{hub = name}

  it("follows every page", function()
    local members = hub:list_connections(name, {max_page_size = 1})
    assert.equal(2, #members)
    assert.equal("6eD1-hicuRVKk2p4b7yOXwIQBg-Qa02", members[1].connection_id)
    assert.equal("ZkI3be0WTgWOZTL8QjoMPgTxxhLga02", members[2].connection_id)
    assert.is_nil(members[1].user_id)
  end)
end)
