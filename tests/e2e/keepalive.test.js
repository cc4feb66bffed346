// Keep-alive of `wps serve`, run with short durations (--ping-interval 100ms,
// --ping-timeout 800ms): the service pings silent clients, keeps those that
// answer (the SDK client among them) and closes those that answer nothing
// with PingTimeout. Every wait is for an event: pings, a close.

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { setUpService, withTimeout } from "./harness.js";
import { closeRawClients, connectRaw, reliableProtocol } from "./raw.js";

const service = setUpService(["--ping-interval", "100ms", "--ping-timeout", "800ms"]);
afterEach(closeRawClients);

describe("keep-alive", () => {
  test("a silent client is pinged, and one that answers stays connected", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const sdk = await service.connect(hub, { userId: "sdk" });
    const plain = await connectRaw(service, hub, { userId: "plain" }); // ws answers pings itself
    // Twelve pings, answered, take longer than the ping timeout.
    await plain.until("12 pings", () => plain.pings >= 12);
    assert.equal(await rest.userExists("plain"), true);
    assert.equal(await rest.connectionExists(sdk.connectionId), true);
  });

  test("a client that answers no ping is closed with PingTimeout", async () => {
    const hub = service.newHub();
    const rest = service.serviceClient(hub);
    const plain = await connectRaw(service, hub, { userId: "plain" }, undefined, { autoPong: false });
    const reliable = await connectRaw(service, hub, { userId: "reliable" }, reliableProtocol, { autoPong: false });
    for (const client of [plain, reliable]) {
      const closed = await withTimeout("the close", client.closed);
      assert.deepEqual([closed.code, closed.reason], [1008, "PingTimeout"]);
      assert.ok(client.pings > 0, "closed without a ping");
    }
    const disconnected = reliable.json().find((m) => m.event === "disconnected");
    assert.equal(disconnected?.message, "PingTimeout");
    assert.equal(await rest.userExists("plain"), false);
    assert.equal(await rest.userExists("reliable"), false);
  });
});
