// What a careless or hostile client tries against `wps serve`, and what the
// official SDK clients around it see: text that is not UTF-8 (through REST,
// from each client protocol, in a close reason), a client that never reads
// during a flood, tokens and audiences at the edges, and the error texts.
// Receivers are the SDK's reliable and JSON clients and a plain WebSocket.

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { WebPubSubClient, WebPubSubJsonProtocol } from "@azure/web-pubsub-client";
import { clientOptions, marker, setUpService, signToken, withTimeout } from "./harness.js";
import { closeRawClients, connectRaw, jsonProtocol, openRaw, reliableProtocol, restCall } from "./raw.js";

// A small queue limit, so that a client that stops reading is found out
// after a few hundred kilobytes.
const service = setUpService(["--max-queue", "1MiB"]);
afterEach(closeRawClients);

const bad = Buffer.from([0xff]); // never valid in UTF-8

/**
 * Connects the receivers of a test to group "room" of hub: an SDK client
 * with the default reliable protocol, one with the JSON protocol, and a
 * plain WebSocket.
 */
async function receivers(hub) {
  const reliable = await service.connect(hub, { userId: "reliable", groups: ["room"] });
  const json = await service.connect(hub, { userId: "json", groups: ["room"] }, { protocol: WebPubSubJsonProtocol() });
  const plain = await connectRaw(service, hub, { userId: "plain", groups: ["room"] });
  return { reliable, json, plain };
}

/**
 * Sends a marker to group "room" and checks that it is the first thing
 * every receiver gets, and that none was disconnected.
 */
async function assertNothingReached(hub, { reliable, json, plain }) {
  const rest = service.serviceClient(hub);
  const m = marker();
  await rest.group("room").sendToAll(m.text, { contentType: "text/plain" });
  for (const conn of [reliable, json]) {
    const { before } = await conn.waitForMessage(`the marker at ${conn.userId}`, m.matches);
    assert.deepEqual(before, [], `${conn.userId} got something before the marker`);
  }
  await plain.until("the marker at the plain client", () => plain.frames.length > 0);
  assert.deepEqual(plain.frames, [m.text]);
  for (const user of ["reliable", "json", "plain"]) assert.equal(await rest.userExists(user), true, `${user} was disconnected`);
}

describe("text that is not UTF-8", () => {
  test("REST text/plain and application/json bodies are refused with 400, and no client is disconnected", async () => {
    const hub = service.newHub();
    const clients = await receivers(hub);
    for (const path of [`/api/hubs/${hub}/:send`, `/api/hubs/${hub}/groups/room/:send`, `/api/hubs/${hub}/users/plain/:send`]) {
      for (const [contentType, body] of [
        ["text/plain", bad],
        ["text/plain; charset=utf-8", Buffer.concat([Buffer.from("caf"), Buffer.from([0xc3])])],
        ["application/json", Buffer.concat([Buffer.from('{"t":"'), bad, Buffer.from('"}')])],
      ]) {
        const res = await restCall(service, "POST", path, { contentType, body });
        assert.equal(res.status, 400, `${path} ${contentType}: ${res.body}`);
        assert.match(res.body, /not valid UTF-8/);
        assert.match(res.body, /application\/octet-stream/);
      }
    }
    await assertNothingReached(hub, clients);
  });

  for (const protocol of [jsonProtocol, reliableProtocol]) {
    test(`a ${protocol} client's message with a byte that is not UTF-8 is closed with 1007 and reaches nobody`, async () => {
      const hub = service.newHub();
      const clients = await receivers(hub);
      const sender = await connectRaw(service, hub, { userId: "sender", roles: ["webpubsub.sendToGroup"], groups: ["room"] }, protocol);
      sender.sendText(Buffer.concat([Buffer.from('{"type":"sendToGroup","group":"room","ackId":1,"data":{"t":"'), bad, Buffer.from('"}}')]));
      const { code, reason } = await withTimeout("the sender to be closed", sender.closed);
      assert.equal(code, 1007);
      assert.match(reason, /not valid UTF-8/);
      assert.ok(!sender.json().some((m) => m.type === "ack"), "the message was acknowledged");
      await assertNothingReached(hub, clients);
    });
  }

  test("a plain client's text frame that is not UTF-8 is closed with 1007", async () => {
    const hub = service.newHub();
    const clients = await receivers(hub);
    const sender = await connectRaw(service, hub, { userId: "sender", groups: ["room"] });
    sender.sendText(bad);
    assert.equal((await withTimeout("the sender to be closed", sender.closed)).code, 1007);
    await assertNothingReached(hub, clients);
  });

  test("a close reason that is not UTF-8 is refused; a long one arrives whole in the message and cut in the close frame", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const conn = await service.connect(hub, { userId: "u" });
    const res = await restCall(service, "DELETE", `/api/hubs/${hub}/connections/${conn.connectionId}?reason=%FF`);
    assert.equal(res.status, 400, res.body);
    assert.match(res.body, /\(Parameter 'reason'\)/);
    assert.equal(await rest.connectionExists(conn.connectionId), true);

    const reason = "é".repeat(100); // 200 bytes
    const disconnected = conn.next("disconnected");
    await rest.closeConnection(conn.connectionId, { reason });
    assert.equal((await disconnected).message?.message, reason);

    const plain = await connectRaw(service, hub, { userId: "p" });
    await rest.closeUserConnections("p", { reason });
    const closed = await withTimeout("the plain client to be closed", plain.closed);
    assert.equal(closed.reason, "é".repeat(61)); // 122 bytes: a close frame holds 123, and é is two
  });
});

describe("a client that never reads", () => {
  test("is closed with SlowClient during a flood, and the others get every message", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const healthy = await service.connect(hub, { userId: "healthy" });
    const healthyPlain = await connectRaw(service, hub, { userId: "healthy-plain" });
    const slow = await connectRaw(service, hub, { userId: "slow" });
    slow.stopReading();

    const size = 128 * 1024;
    let sent = 0;
    let extra = 0;
    while (extra < 3) {
      const payload = Buffer.alloc(size);
      payload.writeUInt32BE(sent);
      await rest.sendToAll(payload);
      sent += 1;
      // The healthy clients keep up: each message is read before the next.
      await healthy.waitForMessage(`message ${sent}`, () => healthy.messages.length >= sent);
      await healthyPlain.until(`message ${sent} at the plain client`, () => healthyPlain.frames.length >= sent);
      if (!(await rest.userExists("slow"))) extra += 1;
      assert.ok(sent < 1000, "the slow client was never closed");
    }
    const numbers = (list) => list.map((data) => Buffer.from(data).readUInt32BE(0));
    const all = [...Array(sent).keys()];
    assert.deepEqual(numbers(healthy.messages.map((m) => m.data)), all);
    assert.deepEqual(numbers(healthyPlain.frames), all);

    // Reading at last, the slow client gets what was on its way, then why it was closed.
    slow.resumeReading();
    const closed = await withTimeout("the slow client's close", slow.closed);
    assert.deepEqual([closed.code, closed.reason], [1008, "SlowClient"]);
    assert.ok(slow.frames.length < sent, `the slow client got all ${sent} messages`);
  });
});

describe("tokens and audiences", () => {
  test(":generateToken refuses an out-of-range minutesToExpire with 400", async () => {
    const hub = service.newHub();
    for (const minutes of ["1000000000000", "0", "-5", "1.5"]) {
      const res = await restCall(service, "POST", `/api/hubs/${hub}/:generateToken?minutesToExpire=${minutes}`);
      assert.equal(res.status, 400, `${minutes}: ${res.body}`);
      assert.match(JSON.parse(res.body).message, /^minutesToExpire must be a whole number from 1 to 525600, not ".*"\. \(Parameter 'minutesToExpire'\)$/);
    }
    const res = await restCall(service, "POST", `/api/hubs/${hub}/:generateToken?minutesToExpire=525600`);
    assert.equal(res.status, 200, res.body);
  });

  test("a REST token is for its path exactly as escaped, group case included", async () => {
    const hub = service.newHub();
    await service.connect(hub, { userId: "u" });
    const base = `${service.endpoint}/api/hubs/${hub}`;
    const refused = [
      ["POST", "/groups/public/:send", "/groups/PUBLIC/:send"],
      ["PUT", "/users/u/groups/g", "/users/u%2Fgroups%2Fg"],
      ["HEAD", "/users/u", "/users/U"],
    ];
    for (const [method, path, audPath] of refused) {
      const res = await restCall(service, method, `/api/hubs/${hub}${path}`, { contentType: "text/plain", body: method === "POST" ? "x" : undefined, audience: base + audPath });
      assert.equal(res.status, 401, `${method} ${path} with a token for ${audPath}`);
    }
    // What the REST spec lets differ: scheme, host, query, a trailing slash and the hub's case.
    const lenient = `https://proxy.example/api/hubs/${hub.toUpperCase()}/users/u/groups/g/`;
    assert.equal((await restCall(service, "PUT", `/api/hubs/${hub}/users/u/groups/g`, { audience: lenient })).status, 200);
  });

  test("a client token must be for exactly …/client/hubs/{hub}", async () => {
    const hub = service.newHub();
    const now = Math.floor(Date.now() / 1000);
    const url = (aud) => `${service.endpoint.replace(/^http/, "ws")}/client/hubs/${hub}?access_token=${signToken({ aud, exp: now + 600 }, service.key)}`;
    for (const aud of [`${service.endpoint}/api/xclient/hubs/${hub}`, `${service.endpoint}/x/client/hubs/${hub}`, `${service.endpoint}/client/hubs/${hub}/more`]) {
      const client = new WebPubSubClient(url(aud), clientOptions());
      service.clients.add(client);
      await assert.rejects(withTimeout("client.start()", client.start()), /401/, aud);
    }
    const client = new WebPubSubClient(url(`${service.endpoint}/client/hubs/${hub}`), clientOptions());
    service.clients.add(client);
    await withTimeout("client.start()", client.start());
  });
});

describe("error texts", () => {
  test("a filter syntax error reads as the real service's answer", async () => {
    const rest = service.serviceClient(service.newHub());
    const res = await restCall(service, "POST", `/api/hubs/${service.newHub()}/:send?filter=${encodeURIComponent("invalid filter")}`, { contentType: "text/plain", body: "x" });
    assert.equal(res.status, 400);
    // The answer recorded from Azure, word for word.
    assert.equal(JSON.parse(res.body).message, "Invalid syntax for 'invalid filter': Syntax error at position 14 in 'invalid filter'. (Parameter 'filter')");
    await assert.rejects(rest.sendToAll("x", { contentType: "text/plain", filter: "invalid filter" }), (err) => {
      assert.equal(err.statusCode, 400);
      assert.match(`${err.message} ${err.response?.bodyAsText ?? ""}`, /Syntax error at position 14 in 'invalid filter'/);
      return true;
    });
  });

  test("a malformed client message is closed with a reason in plain words", async () => {
    const client = await connectRaw(service, service.newHub(), {}, jsonProtocol);
    client.sendText(Buffer.from('{"type":"joinGroup","group":"g","ackId":-1}'));
    const { code, reason } = await withTimeout("the close", client.closed);
    assert.equal(code, 1007);
    assert.equal(reason, "The field ackId must be a whole number from 0 to 18446744073709551615, not -1.");
  });

  test("a WebSocket without a token is told to pass access_token", async () => {
    const url = `${service.endpoint.replace(/^http/, "ws")}/client/hubs/${service.newHub()}`;
    await assert.rejects(openRaw(url), (err) => {
      assert.equal(err.status, 401);
      assert.match(err.body, /access_token query parameter/);
      return true;
    });
  });
});
