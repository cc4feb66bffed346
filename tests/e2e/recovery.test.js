// Reliable-protocol recovery against `wps serve`: when the socket under a
// WebPubSubClient dies without a close handshake, the client reconnects with
// awps_connection_id and awps_reconnection_token, keeps its connection id and
// groups, and receives every message exactly once, in order, including those
// in flight at the drop and those sent while it was away.
//
// The socket is killed through the `ws` WebSocket the client holds
// (client._wsClient._socket.terminate()): a TCP reset without a close frame,
// as when a network path dies. That is the only use of the SDK's internals.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { marker, setUpService, sleep } from "./harness.js";

const service = setUpService();

/** Returns the ws WebSocket currently under client. */
function socketOf(client) {
  const socket = client._wsClient?._socket;
  assert.ok(socket && typeof socket.terminate === "function", "the SDK still keeps its ws socket at _wsClient._socket");
  return socket;
}

/** Counts the client's connected and disconnected events from now on. */
function countLifecycle(client) {
  const counts = { connected: 0, disconnected: 0 };
  client.on("connected", () => counts.connected++);
  client.on("disconnected", () => counts.disconnected++);
  return counts;
}

describe("recovery", () => {
  test("a dropped socket resumes with the same connection id and no lost message", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const conn = await service.connect(hub, {
      userId: "mia",
      groups: ["room"],
      roles: ["webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"],
    });
    const counts = countLifecycle(conn.client);
    const firstSocket = socketOf(conn.client);

    // Kill the socket twice while a burst of messages is being delivered.
    const total = 300;
    const dropAt = new Set([40, 170]);
    conn.client.on("server-message", (e) => {
      const i = e.message.data?.i;
      if (dropAt.has(i)) {
        dropAt.delete(i);
        socketOf(conn.client).terminate();
      }
    });
    for (let i = 0; i < total; i++) await rest.sendToAll({ i });

    await conn.waitForMessage(`message ${total - 1}`, (m) => m.data?.i === total - 1, 15_000);
    assert.equal(dropAt.size, 0, "both drops happened");
    const received = conn.messages.map((m) => m.data.i);
    assert.deepEqual(received, Array.from({ length: total }, (_, i) => i), "every message once, in order");

    // The client is on a new socket, but the same connection.
    assert.notEqual(socketOf(conn.client), firstSocket, "the client now runs on a new socket");
    assert.deepEqual(counts, { connected: 0, disconnected: 0 }, "recovery is invisible to the app");
    assert.equal(await rest.connectionExists(conn.connectionId), true);
    await rest.sendToConnection(conn.connectionId, "still you", { contentType: "text/plain" });
    await conn.waitForMessage("a message sent to the old connection id", (m) => m.data === "still you");

    // Groups survive, and the client can still publish.
    await conn.client.sendToGroup("room", "after recovery", "text");
    const { message } = await conn.waitForMessage("its group message", (m) => m.data === "after recovery");
    assert.equal(message.group, "room");
    assert.equal(message.fromUserId, "mia");
  });

  test("messages sent while the socket is down are delivered after recovery", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const conn = await service.connect(hub, { userId: "noah", groups: ["room"] });
    const counts = countLifecycle(conn.client);

    await rest.group("room").sendToAll({ n: 0 });
    await conn.waitForMessage("the first message", (m) => m.data?.n === 0);

    // Kill the socket and send at once, so the messages reach the service
    // while the client is still reconnecting.
    const socket = socketOf(conn.client);
    socket.terminate();
    const sends = [];
    for (let n = 1; n <= 20; n++) sends.push(rest.group("room").sendToAll({ n }));
    await Promise.all(sends);

    // The sends ran in parallel, so their order is not defined; a marker sent
    // after all of them arrives after all of them.
    const m = marker();
    await rest.sendToConnection(conn.connectionId, m.text, { contentType: "text/plain" });
    const { before } = await conn.waitForMessage(`marker ${m.text}`, m.matches, 15_000);
    const received = before.map((msg) => msg.data.n).toSorted((a, b) => a - b);
    assert.deepEqual(received, Array.from({ length: 21 }, (_, n) => n), "none lost or doubled");
    assert.deepEqual(counts, { connected: 0, disconnected: 0 });
    assert.notEqual(socketOf(conn.client), socket);
  });

  test("an idle client keeps its socket: the service answers the SDK's keep-alive pings", async () => {
    const hub = service.newHub();
    const keepAliveTimeoutInMs = 3000;
    const conn = await service.connect(hub, {}, { keepAliveIntervalInMs: 500, keepAliveTimeoutInMs });
    const counts = countLifecycle(conn.client);
    const socket = socketOf(conn.client);
    await sleep(keepAliveTimeoutInMs + 1500); // past the point where a client hearing nothing closes
    assert.equal(socketOf(conn.client), socket, "the client did not give up on its socket");
    assert.deepEqual(counts, { connected: 0, disconnected: 0 });
    await service.serviceClient(hub).sendToConnection(conn.connectionId, "awake", { contentType: "text/plain" });
    await conn.waitForMessage("a message after the idle time", (m) => m.data === "awake");
  });
});
