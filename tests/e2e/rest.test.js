// Every REST operation of @azure/web-pubsub 1.2.0 against `wps serve`, each
// checked by what real @azure/web-pubsub-client connections observe.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { WebPubSubClient } from "@azure/web-pubsub-client";
import { clientOptions, payloadsBeforeMarker, setUpService, waitUntil, withTimeout } from "./harness.js";

const service = setUpService();

describe("health", () => {
  test("HEAD /api/health answers 200 without credentials", async () => {
    const res = await fetch(`${service.endpoint}/api/health`, { method: "HEAD" });
    assert.equal(res.status, 200);
  });
});

describe("send", () => {
  test("sendToAll delivers text, JSON and binary with the matching data type", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const a = await service.connect(hub);
    const b = await service.connect(hub);

    await rest.sendToAll("plain text", { contentType: "text/plain" });
    await rest.sendToAll({ hello: "world", n: 1 });
    await rest.sendToAll(new Uint8Array([0, 1, 2, 250]).buffer);

    for (const conn of [a, b]) {
      await waitUntil("three server messages", () => conn.messages.length >= 3);
      const [text, json, binary] = conn.messages;
      assert.equal(text.kind, "serverData");
      assert.equal(text.dataType, "text");
      assert.equal(text.data, "plain text");
      assert.equal(json.dataType, "json");
      assert.deepEqual(json.data, { hello: "world", n: 1 });
      assert.equal(binary.dataType, "binary");
      assert.ok(binary.data instanceof ArrayBuffer, "binary data arrives as an ArrayBuffer");
      assert.deepEqual([...new Uint8Array(binary.data)], [0, 1, 2, 250]);
    }
  });

  test("sendToAll skips excluded connections", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const a = await service.connect(hub);
    const b = await service.connect(hub);

    await rest.sendToAll("not for a", { contentType: "text/plain", excludedConnections: [a.connectionId] });
    await b.waitForMessage("the broadcast on b", (m) => m.data === "not for a");
    assert.deepEqual(await payloadsBeforeMarker(rest, a), []);
  });

  test("sendToAll accepts messageTtlSeconds", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const a = await service.connect(hub);
    await rest.sendToAll("with ttl", { contentType: "text/plain", messageTtlSeconds: 60 });
    await a.waitForMessage("the message sent with a TTL", (m) => m.data === "with ttl");
  });

  test("sendToUser reaches every connection of that user and nobody else", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const alice1 = await service.connect(hub, { userId: "alice" });
    const alice2 = await service.connect(hub, { userId: "alice" });
    const bob = await service.connect(hub, { userId: "bob" });
    assert.equal(alice1.userId, "alice");

    await rest.sendToUser("alice", { to: "alice" });
    for (const conn of [alice1, alice2]) {
      const { message } = await conn.waitForMessage("alice's message", (m) => m.data?.to === "alice");
      assert.equal(message.kind, "serverData");
    }
    assert.deepEqual(await payloadsBeforeMarker(rest, bob), []);
  });

  test("sendToConnection reaches that connection only", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const a = await service.connect(hub);
    const b = await service.connect(hub);
    await rest.sendToConnection(a.connectionId, "just a", { contentType: "text/plain" });
    await a.waitForMessage("the message for a", (m) => m.data === "just a");
    assert.deepEqual(await payloadsBeforeMarker(rest, b), []);
  });

  test("a REST send to another hub does not leak into this one", async () => {
    const hub = service.newHub();
    const other = service.serviceClient(service.newHub());
    const a = await service.connect(hub);
    await other.sendToAll("other hub", { contentType: "text/plain" });
    assert.deepEqual(await payloadsBeforeMarker(service.serviceClient(hub), a), []);
  });
});

describe("existence", () => {
  test("connectionExists, userExists and groupExists follow the connections", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    assert.equal(await rest.connectionExists("no-such-connection"), false);
    assert.equal(await rest.userExists("carol"), false);
    assert.equal(await rest.groupExists("room"), false);

    const carol = await service.connect(hub, { userId: "carol" });
    assert.equal(await rest.connectionExists(carol.connectionId), true);
    assert.equal(await rest.userExists("carol"), true);
    await rest.group("room").addConnection(carol.connectionId);
    assert.equal(await rest.groupExists("room"), true);

    await rest.closeConnection(carol.connectionId);
    await waitUntil("the closed connection to stop existing", async () => !(await rest.connectionExists(carol.connectionId)));
    assert.equal(await rest.userExists("carol"), false);
    assert.equal(await rest.groupExists("room"), false);
  });
});

describe("groups", () => {
  test("group.addConnection, sendToAll and removeConnection", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const room = rest.group("room");
    const a = await service.connect(hub);
    const b = await service.connect(hub);

    await room.addConnection(a.connectionId);
    await room.sendToAll("to the room", { contentType: "text/plain" });
    const { message } = await a.waitForMessage("the group message", (m) => m.data === "to the room");
    assert.equal(message.kind, "groupData");
    assert.equal(message.group, "room");
    assert.deepEqual(await payloadsBeforeMarker(rest, b), []);

    await room.removeConnection(a.connectionId);
    await room.sendToAll("after removal", { contentType: "text/plain" });
    assert.ok(!(await payloadsBeforeMarker(rest, a)).includes("after removal"));
  });

  test("group.sendToAll skips excluded connections", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const room = rest.group("room");
    const a = await service.connect(hub, { groups: ["room"] });
    const b = await service.connect(hub, { groups: ["room"] });
    await room.sendToAll("not for b", { contentType: "text/plain", excludedConnections: [b.connectionId] });
    await a.waitForMessage("the group message on a", (m) => m.data === "not for b");
    assert.deepEqual(await payloadsBeforeMarker(rest, b), []);
  });

  test("group.addConnection of an unknown connection fails with 404", async () => {
    const rest = service.serviceClient(service.newHub());
    await assert.rejects(rest.group("room").addConnection("no-such-connection"), (err) => {
      assert.equal(err.name, "RestError");
      assert.equal(err.statusCode, 404);
      return true;
    });
  });

  test("group.addUser and removeUser cover all of the user's connections", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const room = rest.group("room");
    const dave1 = await service.connect(hub, { userId: "dave" });
    const dave2 = await service.connect(hub, { userId: "dave" });

    await room.addUser("dave");
    await room.sendToAll("hi dave", { contentType: "text/plain" });
    for (const conn of [dave1, dave2]) await conn.waitForMessage("group message", (m) => m.data === "hi dave");

    await room.removeUser("dave");
    await room.sendToAll("gone", { contentType: "text/plain" });
    for (const conn of [dave1, dave2]) assert.ok(!(await payloadsBeforeMarker(rest, conn)).includes("gone"));
  });

  test("removeUserFromAllGroups and removeConnectionFromAllGroups", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const eve = await service.connect(hub, { userId: "eve", groups: ["g1", "g2"] });
    const frank = await service.connect(hub, { userId: "frank", groups: ["g1", "g2"] });

    await rest.removeUserFromAllGroups("eve");
    await rest.removeConnectionFromAllGroups(frank.connectionId);
    await rest.group("g1").sendToAll("g1 msg", { contentType: "text/plain" });
    await rest.group("g2").sendToAll("g2 msg", { contentType: "text/plain" });
    assert.deepEqual(await payloadsBeforeMarker(rest, eve), []);
    assert.deepEqual(await payloadsBeforeMarker(rest, frank), []);
    assert.equal(await rest.groupExists("g1"), false);
  });

  test("addConnectionsToGroups and removeConnectionsFromGroups with a filter", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const vip = await service.connect(hub, { userId: "vip-1" });
    const guest = await service.connect(hub, { userId: "guest-1" });

    await rest.addConnectionsToGroups(["lounge", "bar"], "startswith(userId, 'vip-')");
    await rest.group("lounge").sendToAll("lounge open", { contentType: "text/plain" });
    await rest.group("bar").sendToAll("bar open", { contentType: "text/plain" });
    await vip.waitForMessage("lounge message", (m) => m.data === "lounge open" && m.group === "lounge");
    await vip.waitForMessage("bar message", (m) => m.data === "bar open" && m.group === "bar");
    assert.deepEqual(await payloadsBeforeMarker(rest, guest), []);

    await rest.removeConnectionsFromGroups(["lounge"], `connectionId eq '${vip.connectionId}'`);
    await rest.group("lounge").sendToAll("lounge again", { contentType: "text/plain" });
    await rest.group("bar").sendToAll("bar again", { contentType: "text/plain" });
    const seen = await payloadsBeforeMarker(rest, vip);
    assert.ok(seen.includes("bar again"), `vip still in bar; saw ${JSON.stringify(seen)}`);
    assert.ok(!seen.includes("lounge again"), `vip left the lounge; saw ${JSON.stringify(seen)}`);
  });

  test("listConnections lists members with user ids, across pages and capped by top", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const room = rest.group("room");
    const members = [];
    for (let i = 0; i < 5; i++) members.push(await service.connect(hub, { userId: `member${i}`, groups: ["room"] }));
    await service.connect(hub, { userId: "outsider" });

    const listed = [];
    for await (const m of await room.listConnections({ maxPageSize: 2 })) listed.push(m);
    assert.deepEqual(
      listed.map((m) => m.connectionId).sort(),
      members.map((m) => m.connectionId).sort(),
    );
    for (const m of listed) {
      const expected = members.find((c) => c.connectionId === m.connectionId);
      assert.equal(m.userId, expected.userId);
    }

    const firstThree = [];
    for await (const m of await room.listConnections({ top: 3 })) firstThree.push(m);
    assert.equal(firstThree.length, 3);

    const empty = [];
    for await (const m of await rest.group("nobody-here").listConnections()) empty.push(m);
    assert.deepEqual(empty, []);
  });
});

describe("permissions", () => {
  test("grantPermission, hasPermission and revokePermission", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const a = await service.connect(hub);
    const opts = { targetName: "room" };
    assert.equal(await rest.hasPermission(a.connectionId, "joinLeaveGroup", opts), false);
    await rest.grantPermission(a.connectionId, "joinLeaveGroup", opts);
    assert.equal(await rest.hasPermission(a.connectionId, "joinLeaveGroup", opts), true);
    assert.equal(await rest.hasPermission(a.connectionId, "joinLeaveGroup", { targetName: "other" }), false);
    assert.equal(await rest.hasPermission(a.connectionId, "sendToGroup", opts), false);
    await rest.revokePermission(a.connectionId, "joinLeaveGroup", opts);
    assert.equal(await rest.hasPermission(a.connectionId, "joinLeaveGroup", opts), false);
  });
});

describe("close", () => {
  test("closeAllConnections with excluded keeps the excluded one", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const a = await service.connect(hub, {});
    const b = await service.connect(hub, {});
    const disconnected = a.next("disconnected");
    // The typed options of closeAllConnections lack `excluded`, but the SDK
    // passes it on to its generated layer, which sends ?excluded=.
    await rest.closeAllConnections({ excluded: [b.connectionId], reason: "maintenance" });
    const event = await disconnected;
    assert.equal(event.message?.message, "maintenance");
    assert.equal(await rest.connectionExists(b.connectionId), true);
    await waitUntil("a to be gone", async () => !(await rest.connectionExists(a.connectionId)));
  });

  test("closeUserConnections closes only that user's connections, minus excluded ones", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const g1 = await service.connect(hub, { userId: "grace" });
    const g2 = await service.connect(hub, { userId: "grace" });
    const g3 = await service.connect(hub, { userId: "grace" });
    const h = await service.connect(hub, { userId: "heidi" });
    const closed = [g1.next("disconnected"), g2.next("disconnected")];
    await rest.closeUserConnections("grace", { reason: "bye grace", excluded: [g3.connectionId] });
    for (const event of await Promise.all(closed)) assert.equal(event.message?.message, "bye grace");
    assert.equal(await rest.connectionExists(h.connectionId), true);
    assert.equal(await rest.connectionExists(g3.connectionId), true);
    await waitUntil("grace's closed connections to be gone", async () => {
      const left = await Promise.all([g1, g2].map((c) => rest.connectionExists(c.connectionId)));
      return !left.includes(true);
    });
  });

  test("group.closeAllConnections closes the members only, minus excluded ones", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const member = await service.connect(hub, { groups: ["room"] });
    const spared = await service.connect(hub, { groups: ["room"] });
    const outsider = await service.connect(hub, {});
    const closed = member.next("disconnected");
    await rest.group("room").closeAllConnections({ reason: "room closed", excluded: [spared.connectionId] });
    assert.equal((await closed).message?.message, "room closed");
    assert.equal(await rest.connectionExists(outsider.connectionId), true);
    assert.equal(await rest.connectionExists(spared.connectionId), true);
  });
});

describe("generateToken", () => {
  test(":generateToken returns a token the client can connect with", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    // The SDK only calls :generateToken for Entra credentials; its generated
    // client is the same wire code, signed here with the access key.
    const { token } = await rest.client.webPubSub.generateClientToken(hub, {
      userId: "ivan",
      roles: ["webpubsub.joinLeaveGroup"],
      groups: ["initial"],
      expirationTimeInMinutes: 5,
    });
    assert.equal(typeof token, "string");
    const url = `${service.endpoint.replace("http", "ws")}/client/hubs/${hub}?access_token=${token}`;
    const client = new WebPubSubClient(url, clientOptions());
    service.clients.add(client);
    const connected = new Promise((r) => client.on("connected", r));
    const groupMessage = new Promise((r) => client.on("group-message", r));
    await withTimeout("client.start()", client.start());
    assert.equal((await withTimeout("connected", connected)).userId, "ivan");
    await rest.group("initial").sendToAll("from initial group", { contentType: "text/plain" });
    assert.equal((await withTimeout("the group message", groupMessage)).message.data, "from initial group");
    await client.joinGroup("another"); // allowed by the role in the token
  });
});
