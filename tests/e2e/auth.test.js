// Authentication of clients and REST calls against `wps serve`: forged,
// expired, tampered and misaddressed tokens are refused with 401.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { WebPubSubClient } from "@azure/web-pubsub-client";
import { clientOptions, setUpService, signToken, withTimeout } from "./harness.js";

const service = setUpService();

/** Returns the client URL of hub on the service with token as access_token. */
function clientUrl(hub, token) {
  return `${service.endpoint.replace(/^http/, "ws")}/client/hubs/${hub}?access_token=${token}`;
}

/** Returns the audience a client token for hub must carry. */
function audience(hub) {
  return `${service.endpoint}/client/hubs/${hub}`;
}

/** Starts a WebPubSubClient on url and asserts that start() rejects with HTTP 401. */
async function assertRefused(url) {
  const client = new WebPubSubClient(url, clientOptions());
  service.clients.add(client);
  await assert.rejects(withTimeout("client.start()", client.start()), (err) => {
    assert.match(String(err?.message ?? err), /401/, `want a 401 refusal, got: ${err}`);
    return true;
  });
}

const now = () => Math.floor(Date.now() / 1000);

describe("client tokens", () => {
  test("a token made by the SDK with the right key is accepted", async () => {
    const hub = service.newHub();
    const conn = await service.connect(hub, { userId: "ok" });
    assert.equal(conn.userId, "ok");
    assert.equal(typeof conn.connectionId, "string");
    assert.ok(conn.connectionId.length > 0);
  });

  test("a token signed with a wrong key (forged by the SDK) is refused", async () => {
    const hub = service.newHub();
    const forger = service.serviceClient(hub, randomBytes(32).toString("base64url"));
    const { url } = await forger.getClientAccessToken({ userId: "mallory", roles: ["webpubsub.sendToGroup"] });
    await assertRefused(url);
  });

  test("an expired token is refused", async () => {
    const hub = service.newHub();
    const token = signToken({ aud: audience(hub), iat: now() - 7200, exp: now() - 3600, sub: "late" }, service.key);
    await assertRefused(clientUrl(hub, token));
  });

  test("an expired token made by the SDK (negative lifetime) is refused", async () => {
    const hub = service.newHub();
    const { url } = await service.serviceClient(hub).getClientAccessToken({ expirationTimeInMinutes: -60 });
    await assertRefused(url);
  });

  test("a token without exp is refused", async () => {
    const hub = service.newHub();
    await assertRefused(clientUrl(hub, signToken({ aud: audience(hub), sub: "forever" }, service.key)));
  });

  test("a correctly signed token is accepted by the same check", async () => {
    const hub = service.newHub();
    const token = signToken({ aud: audience(hub), iat: now(), exp: now() + 600, sub: "handmade" }, service.key);
    const client = new WebPubSubClient(clientUrl(hub, token), clientOptions());
    service.clients.add(client);
    const connected = new Promise((r) => client.on("connected", r));
    await withTimeout("client.start()", client.start());
    assert.equal((await withTimeout("connected", connected)).userId, "handmade");
  });

  test("a token whose claims were changed after signing is refused", async () => {
    const hub = service.newHub();
    const { token } = await service.serviceClient(hub).getClientAccessToken({ userId: "user" });
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    claims.sub = "admin";
    claims.role = ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"];
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
    await assertRefused(clientUrl(hub, tampered));
  });

  test("an unsigned token (alg none) is refused", async () => {
    const hub = service.newHub();
    const encode = (obj) => Buffer.from(JSON.stringify(obj)).toString("base64url");
    const token = `${encode({ alg: "none", typ: "JWT" })}.${encode({ aud: audience(hub), exp: now() + 600 })}.`;
    await assertRefused(clientUrl(hub, token));
  });

  test("a token for another hub is refused", async () => {
    const hub = service.newHub();
    const { token } = await service.serviceClient(service.newHub()).getClientAccessToken();
    await assertRefused(clientUrl(hub, token));
  });

  test("a connection without a token is refused", async () => {
    await assertRefused(`${service.endpoint.replace(/^http/, "ws")}/client/hubs/${service.newHub()}`);
  });
});

describe("REST", () => {
  test("a REST call signed with a wrong key fails with 401", async () => {
    const rest = service.serviceClient(service.newHub(), randomBytes(32).toString("base64url"));
    await assert.rejects(rest.sendToAll("x", { contentType: "text/plain" }), (err) => {
      assert.equal(err.name, "RestError");
      assert.equal(err.statusCode, 401);
      return true;
    });
  });

  test("a REST call without credentials fails with 401", async () => {
    const res = await fetch(`${service.endpoint}/api/hubs/${service.newHub()}/:send?api-version=2024-12-01`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x",
    });
    assert.equal(res.status, 401);
  });

  test("a REST error never echoes the key", async () => {
    const res = await fetch(`${service.endpoint}/api/hubs/${service.newHub()}/:send?api-version=2024-12-01`, {
      method: "POST",
      headers: { "content-type": "text/plain", authorization: `Bearer ${service.key}` },
      body: "x",
    });
    assert.equal(res.status, 401);
    assert.ok(!(await res.text()).includes(service.key));
  });
});
