// Client permissions against `wps serve`: denied without a role, granted by
// token roles or by REST, and revoked by REST.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SendMessageError } from "@azure/web-pubsub-client";
import { payloadsBeforeMarker, setUpService } from "./harness.js";

const service = setUpService();

/** Asserts that promise rejects with the service's Forbidden ack. */
async function assertForbidden(promise, what) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof SendMessageError, `${what}: want SendMessageError, got ${err}`);
    assert.equal(err.errorDetail?.name, "Forbidden", `${what}: ${JSON.stringify(err.errorDetail)}`);
    return true;
  });
}

describe("denied", () => {
  test("a client without roles cannot join, leave or send to a group", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const plain = await service.connect(hub);
    const listener = await service.connect(hub, { groups: ["room"] });
    await assertForbidden(plain.client.joinGroup("room"), "joinGroup");
    await assertForbidden(plain.client.leaveGroup("room"), "leaveGroup");
    await assertForbidden(plain.client.sendToGroup("room", "sneaky", "text"), "sendToGroup");
    assert.deepEqual(await payloadsBeforeMarker(rest, listener), [], "the denied message was not delivered");
    assert.equal(await rest.hasPermission(plain.connectionId, "sendToGroup", { targetName: "room" }), false);
  });

  test("a denied fire-and-forget send is dropped and the connection stays usable", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const plain = await service.connect(hub);
    const listener = await service.connect(hub, { groups: ["room"] });
    await plain.client.sendToGroup("room", "dropped", "text", { fireAndForget: true });
    assert.deepEqual(await payloadsBeforeMarker(rest, listener), []);
    assert.equal(await rest.connectionExists(plain.connectionId), true);
    assert.deepEqual(await payloadsBeforeMarker(rest, plain), []);
  });

  test("joining a group does not allow sending to it", async () => {
    const hub = service.newHub();
    const member = await service.connect(hub, { roles: ["webpubsub.joinLeaveGroup"] });
    await member.client.joinGroup("room");
    await assertForbidden(member.client.sendToGroup("room", "x", "text"), "sendToGroup");
  });
});

describe("granted by token", () => {
  test("roles scoped to one group allow that group only", async () => {
    const hub = service.newHub();
    const scoped = await service.connect(hub, {
      roles: ["webpubsub.joinLeaveGroup.room1", "webpubsub.sendToGroup.room1"],
    });
    await scoped.client.joinGroup("room1");
    await scoped.client.sendToGroup("room1", "in room1", "text");
    await scoped.waitForMessage("its own message", (m) => m.data === "in room1" && m.group === "room1");
    await assertForbidden(scoped.client.joinGroup("room2"), "joinGroup room2");
    await assertForbidden(scoped.client.sendToGroup("room2", "x", "text"), "sendToGroup room2");
  });

  test("unscoped roles allow every group, and sending does not require membership", async () => {
    const hub = service.newHub();
    const listener = await service.connect(hub, { groups: ["anywhere"] });
    const sender = await service.connect(hub, { roles: ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"] });
    await sender.client.sendToGroup("anywhere", "from outside", "text");
    await listener.waitForMessage("the message", (m) => m.data === "from outside");
    await sender.client.joinGroup("any-other");
  });
});

describe("granted and revoked by REST", () => {
  test("grantPermission enables, revokePermission disables again", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const conn = await service.connect(hub);
    const listener = await service.connect(hub, { groups: ["room"] });

    await assertForbidden(conn.client.joinGroup("room"), "joinGroup before grant");
    await rest.grantPermission(conn.connectionId, "joinLeaveGroup", { targetName: "room" });
    await rest.grantPermission(conn.connectionId, "sendToGroup", { targetName: "room" });
    await conn.client.joinGroup("room");
    await conn.client.sendToGroup("room", "granted", "text");
    await listener.waitForMessage("the granted message", (m) => m.data === "granted");
    await assertForbidden(conn.client.joinGroup("elsewhere"), "the grant covers its target group only");

    await rest.revokePermission(conn.connectionId, "sendToGroup", { targetName: "room" });
    assert.equal(await rest.hasPermission(conn.connectionId, "sendToGroup", { targetName: "room" }), false);
    await assertForbidden(conn.client.sendToGroup("room", "revoked", "text"), "sendToGroup after revoke");
    await rest.revokePermission(conn.connectionId, "joinLeaveGroup", { targetName: "room" });
    await assertForbidden(conn.client.leaveGroup("room"), "leaveGroup after revoke");
    const seen = await payloadsBeforeMarker(rest, listener);
    assert.ok(!seen.includes("revoked"), `the revoked send was delivered: ${JSON.stringify(seen)}`);
  });

  test("revoking a token role takes it away", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const conn = await service.connect(hub, { roles: ["webpubsub.sendToGroup.room"] });
    assert.equal(await rest.hasPermission(conn.connectionId, "sendToGroup", { targetName: "room" }), true);
    await conn.client.sendToGroup("room", "allowed", "text");
    await rest.revokePermission(conn.connectionId, "sendToGroup", { targetName: "room" });
    await assertForbidden(conn.client.sendToGroup("room", "not any more", "text"), "sendToGroup after revoke");
  });
});
