// Group and user delivery between real clients, and OData filters on REST
// sends, against `wps serve`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { odata } from "@azure/web-pubsub";
import { WebPubSubJsonProtocol } from "@azure/web-pubsub-client";
import { payloadsBeforeMarker, setUpService } from "./harness.js";

const service = setUpService();

const pubsubRoles = ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"];

describe("group delivery between clients", () => {
  test("joinGroup, sendToGroup in text, json and binary, with the sender's user id", async () => {
    const hub = service.newHub();
    const alice = await service.connect(hub, { userId: "alice", roles: pubsubRoles });
    const bob = await service.connect(hub, { userId: "bob", roles: pubsubRoles });
    const carol = await service.connect(hub, { userId: "carol", roles: pubsubRoles });
    await alice.client.joinGroup("chat");
    await bob.client.joinGroup("chat");

    await alice.client.sendToGroup("chat", "hello", "text");
    await alice.client.sendToGroup("chat", { n: 42, list: [1, "two"] }, "json");
    await alice.client.sendToGroup("chat", new Uint8Array([9, 8, 7]).buffer, "binary");

    for (const conn of [alice, bob]) {
      const { message: text } = await conn.waitForMessage("text", (m) => m.dataType === "text");
      assert.equal(text.kind, "groupData");
      assert.equal(text.group, "chat");
      assert.equal(text.fromUserId, "alice");
      assert.equal(text.data, "hello");
      const { message: json } = await conn.waitForMessage("json", (m) => m.dataType === "json");
      assert.deepEqual(json.data, { n: 42, list: [1, "two"] });
      const { message: bin } = await conn.waitForMessage("binary", (m) => m.dataType === "binary");
      assert.deepEqual([...new Uint8Array(bin.data)], [9, 8, 7]);
      assert.deepEqual(
        conn.messages.map((m) => m.dataType),
        ["text", "json", "binary"],
        "messages arrive in the order they were sent",
      );
    }
    assert.deepEqual(await payloadsBeforeMarker(service.serviceClient(hub), carol), []);
  });

  test("noEcho keeps the sender's own message from it", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const alice = await service.connect(hub, { userId: "alice", roles: pubsubRoles, groups: ["chat"] });
    const bob = await service.connect(hub, { userId: "bob", groups: ["chat"] });
    await alice.client.sendToGroup("chat", "quiet", "text", { noEcho: true });
    await bob.waitForMessage("the message on bob", (m) => m.data === "quiet");
    assert.deepEqual(await payloadsBeforeMarker(rest, alice), []);
  });

  test("leaveGroup stops delivery", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const alice = await service.connect(hub, { roles: pubsubRoles });
    await alice.client.joinGroup("chat");
    await rest.group("chat").sendToAll("before leaving", { contentType: "text/plain" });
    await alice.waitForMessage("the first message", (m) => m.data === "before leaving");
    await alice.client.leaveGroup("chat");
    await rest.group("chat").sendToAll("after leaving", { contentType: "text/plain" });
    assert.ok(!(await payloadsBeforeMarker(rest, alice)).includes("after leaving"));
  });

  test("a REST group send arrives as a group message", async () => {
    const hub = service.newHub();
    const listener = await service.connect(hub, { groups: ["news"] });
    await service.serviceClient(hub).group("news").sendToAll({ headline: "hi" });
    const { message } = await listener.waitForMessage("news", (m) => m.kind === "groupData");
    assert.equal(message.group, "news");
    assert.equal(message.dataType, "json");
    assert.deepEqual(message.data, { headline: "hi" });
  });

  test("many messages arrive once each and in order", async () => {
    const hub = service.newHub();
    const sender = await service.connect(hub, { roles: pubsubRoles, groups: ["burst"] });
    const receiver = await service.connect(hub, { groups: ["burst"] });
    const count = 200;
    await Promise.all(
      Array.from({ length: count }, (_, i) => sender.client.sendToGroup("burst", { i }, "json", { fireAndForget: true })),
    );
    await receiver.waitForMessage(`message ${count - 1}`, (m) => m.data?.i === count - 1);
    assert.deepEqual(
      receiver.messages.map((m) => m.data.i),
      Array.from({ length: count }, (_, i) => i),
    );
  });
});

describe("json.webpubsub.azure.v1 (the SDK's non-reliable protocol)", () => {
  test("a client on the plain JSON protocol joins, publishes and receives", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const conn = await service.connect(hub, { userId: "olga", roles: pubsubRoles }, { protocol: WebPubSubJsonProtocol() });
    await conn.client.joinGroup("room");
    await conn.client.sendToGroup("room", { hi: 1 }, "json");
    const { message } = await conn.waitForMessage("its group message", (m) => m.data?.hi === 1);
    assert.equal(message.fromUserId, "olga");
    assert.equal(message.sequenceId, undefined, "no sequence ids without the reliable protocol");
    await rest.sendToConnection(conn.connectionId, "direct", { contentType: "text/plain" });
    await conn.waitForMessage("a server message", (m) => m.data === "direct");
  });
});

describe("user delivery", () => {
  test("sendToUser reaches the user's connections on any client, JSON strings keep their type", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const phone = await service.connect(hub, { userId: "user with spaces/and slash" });
    const laptop = await service.connect(hub, { userId: "user with spaces/and slash" });
    const other = await service.connect(hub, { userId: "someone else" });
    await rest.sendToUser("user with spaces/and slash", "a json string");
    for (const conn of [phone, laptop]) {
      const { message } = await conn.waitForMessage("the user message", (m) => m.kind === "serverData");
      assert.equal(message.dataType, "json");
      assert.equal(message.data, "a json string");
    }
    assert.deepEqual(await payloadsBeforeMarker(rest, other), []);
  });

  test("group names with spaces and unicode survive the round trip", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const group = "Zimmer 1 / ünïcødé ✓";
    const conn = await service.connect(hub, { roles: pubsubRoles });
    await conn.client.joinGroup(group);
    await rest.group(group).sendToAll("hallo", { contentType: "text/plain" });
    const { message } = await conn.waitForMessage("the group message", (m) => m.data === "hallo");
    assert.equal(message.group, group);
    assert.equal(await rest.groupExists(group), true);
  });
});

describe("filters", () => {
  /** Connects alice (groups a,b), bob (group a) and an anonymous connection. */
  async function threeClients() {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const alice = await service.connect(hub, { userId: "alice", groups: ["a", "b"] });
    const bob = await service.connect(hub, { userId: "bob", groups: ["a"] });
    const anon = await service.connect(hub);
    return { rest, alice, bob, anon };
  }

  /** Returns which of the named connections received payload before their markers. */
  async function receivers(rest, conns, payload) {
    const names = [];
    for (const [name, conn] of Object.entries(conns)) {
      if ((await payloadsBeforeMarker(rest, conn)).includes(payload)) names.push(name);
    }
    return names;
  }

  const cases = [
    { filter: "userId eq 'alice'", want: ["alice"] },
    { filter: "userId ne 'alice'", want: ["bob", "anon"] },
    { filter: "userId eq null", want: ["anon"] },
    { filter: "'b' in groups", want: ["alice"] },
    { filter: "'a' in groups and not ('b' in groups)", want: ["bob"] },
    { filter: "userId in ('alice', 'bob')", want: ["alice", "bob"] },
    { filter: "startswith(userId, 'bo') or userId eq null", want: ["bob", "anon"] },
    { filter: "length(groups) gt 1", want: ["alice"] },
    { filter: "toupper(userId) eq 'BOB'", want: ["bob"] },
    { filter: "contains(userId, 'lic') and endswith(userId, 'ce')", want: ["alice"] },
    { filter: "false", want: [] },
  ];
  for (const { filter, want } of cases) {
    test(`sendToAll with filter ${filter}`, async () => {
      const { rest, ...conns } = await threeClients();
      const payload = `filtered: ${filter}`;
      await rest.sendToAll(payload, { contentType: "text/plain", filter });
      assert.deepEqual(await receivers(rest, conns, payload), want);
    });
  }

  test("filter by connectionId, built with the SDK's odata helper", async () => {
    const { rest, ...conns } = await threeClients();
    const filter = odata`connectionId eq ${conns.bob.connectionId} or userId eq ${"o'brien"}`;
    await rest.sendToAll("by id", { contentType: "text/plain", filter });
    assert.deepEqual(await receivers(rest, conns, "by id"), ["bob"]);
  });

  test("filters on sendToUser and group sendToAll", async () => {
    const { rest, ...conns } = await threeClients();
    await rest.group("a").sendToAll("group filtered", { contentType: "text/plain", filter: "'b' in groups" });
    assert.deepEqual(await receivers(rest, conns, "group filtered"), ["alice"]);
    await rest.sendToUser("bob", "user filtered", { contentType: "text/plain", filter: "'b' in groups" });
    assert.deepEqual(await receivers(rest, conns, "user filtered"), []);
  });

  test("an invalid filter is rejected with 400", async () => {
    const { rest } = await threeClients();
    await assert.rejects(rest.sendToAll("x", { contentType: "text/plain", filter: "userId eq" }), (err) => {
      assert.equal(err.name, "RestError");
      assert.equal(err.statusCode, 400);
      return true;
    });
  });
});
