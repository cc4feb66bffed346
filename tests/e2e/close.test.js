// Closing connections against `wps serve`: a REST close with a reason reaches
// the client's "disconnected" event, is final (no recovery of that
// connection), and client.stop() ends a connection for the service too.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setUpService, waitUntil, withTimeout } from "./harness.js";

const service = setUpService();

describe("close", () => {
  test("closeConnection with a reason: the client gets it in its disconnected event", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const conn = await service.connect(hub, { userId: "judy" });
    const disconnected = conn.next("disconnected");
    const stopped = conn.next("stopped");
    await rest.closeConnection(conn.connectionId, { reason: "kicked: spamming" });
    const event = await disconnected;
    assert.equal(event.connectionId, conn.connectionId);
    assert.equal(event.message?.message, "kicked: spamming");
    await stopped;
    await waitUntil("the closed connection to be gone", async () => !(await rest.connectionExists(conn.connectionId)));
  });

  test("a closed connection is not recovered: the client reconnects with a new connection id", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const conn = await service.connect(hub, { userId: "kim" }, { autoReconnect: true }); // the SDK's default
    const reconnected = conn.next("connected", (e) => e.connectionId !== conn.connectionId);
    const disconnected = conn.next("disconnected");
    await rest.closeConnection(conn.connectionId, { reason: "reset" });
    assert.equal((await disconnected).message?.message, "reset");
    const fresh = await reconnected;
    assert.notEqual(fresh.connectionId, conn.connectionId);
    assert.equal(fresh.userId, "kim");
    await waitUntil("the closed connection to be gone", async () => !(await rest.connectionExists(conn.connectionId)));
    assert.equal(await rest.connectionExists(fresh.connectionId), true);
  });

  test("closeConnection without a reason still ends the connection", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const conn = await service.connect(hub, {});
    const disconnected = conn.next("disconnected");
    await rest.closeConnection(conn.connectionId);
    assert.equal((await disconnected).connectionId, conn.connectionId);
    await waitUntil("the closed connection to be gone", async () => !(await rest.connectionExists(conn.connectionId)));
  });

  test("closing an unknown connection succeeds", async () => {
    const rest = service.serviceClient(service.newHub());
    await rest.closeConnection("no-such-connection", { reason: "nothing" });
  });

  test("client.stop() removes the connection from the service", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const conn = await service.connect(hub, { userId: "leo", groups: ["room"] });
    const stopped = conn.next("stopped");
    conn.client.stop();
    await withTimeout("the stopped event", stopped);
    await waitUntil("the connection to be gone", async () => !(await rest.connectionExists(conn.connectionId)));
    assert.equal(await rest.userExists("leo"), false);
    assert.equal(await rest.groupExists("room"), false);
  });
});
