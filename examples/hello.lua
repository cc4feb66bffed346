-- hello.lua: the whole Web PubSub loop in one command.
--
--   wps run examples/hello.lua
--
-- A client connects over WebSocket, as a browser would, and joins a group;
-- the server side sends to that group through the REST API; the script
-- prints what the client received. With no --connection-string (and no
-- WEBPUBSUB_CONNECTION_STRING) it runs against the service embedded in wps,
-- so it works on a fresh machine with no Azure account.

local group = args[1] or "greetings"

-- The client: a user allowed to join groups.
local conn = wps.connect{user_id = "hello-user", roles = {"webpubsub.joinLeaveGroup"}}
print(("client connected: user %s, connection %s"):format(conn.user_id, conn.connection_id))
conn:join(group)
print("client joined group " .. group)

-- The server: one REST call.
wps.send_to_group(group, {text = "hello from the REST API", group = group})
print("server sent a message to group " .. group)

-- What the client really got.
local msg = conn:receive(10)
if msg == nil then
  error("the client received nothing within 10 seconds", 0)
end
print(("client received from %s %s (%s): %s"):format(msg.from, msg.group, msg.data_type, json.encode(msg.data)))
conn:close()
