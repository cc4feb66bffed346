// Operating `wps serve` itself, each case its own process: the public
// development key is refused on a network address, a key from the
// environment works and is never printed, the banner names the real
// address, and a second Ctrl-C ends a graceful shutdown at once.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { WebPubSubServiceClient } from "@azure/web-pubsub";
import { freePort, spawnWps, waitUntil, withTimeout } from "./harness.js";
import { openRaw } from "./raw.js";

const runs = [];
after(() => {
  for (const run of runs) run.child.kill("SIGKILL");
});

/** Runs wps with args and env, killed after the file. */
function wps(args, env = {}) {
  const run = spawnWps(args, { WEBPUBSUB_SERVE_KEY: undefined, ...env });
  runs.push(run);
  return run;
}

describe("wps serve", () => {
  test("refuses to listen on 0.0.0.0 with the public development key", async () => {
    const run = wps(["serve", "--host", "0.0.0.0", "--port", String(await freePort())]);
    const { code } = await withTimeout("wps serve to exit", run.exited);
    assert.equal(code, 2, run.output);
    assert.match(run.stderr, /refusing to listen on 0\.0\.0\.0 with the public development key/);
    assert.match(run.stderr, /--key-file FILE, the WEBPUBSUB_SERVE_KEY environment variable or --key, or pass --allow-dev-key-on-network/);
    assert.equal(run.stdout, "");
  });

  test("takes its key from WEBPUBSUB_SERVE_KEY, names the address it listens on, and never prints the key", async () => {
    const key = randomBytes(32).toString("base64url");
    const port = await freePort();
    const run = wps(["serve", "--host", "0.0.0.0", "--port", String(port)], { WEBPUBSUB_SERVE_KEY: key });
    await waitUntil("the banner", () => run.stdout.includes("Connection string:") || run.child.exitCode !== null);
    assert.match(run.stdout, new RegExp(`listening on http://0\\.0\\.0\\.0:${port} \\(every interface; from this machine http://127\\.0\\.0\\.1:${port}\\)`));
    assert.match(run.stdout, /AccessKey=<the key from WEBPUBSUB_SERVE_KEY>;/);

    const endpoint = `http://127.0.0.1:${port}`;
    const rest = new WebPubSubServiceClient(`Endpoint=${endpoint};AccessKey=${key};Version=1.0;`, "hub", {
      allowInsecureConnection: true,
      retryOptions: { maxRetries: 0 },
    });
    await rest.sendToAll("hello", { contentType: "text/plain" });
    const wrong = new WebPubSubServiceClient(`Endpoint=${endpoint};AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1.0;`, "hub", {
      allowInsecureConnection: true,
      retryOptions: { maxRetries: 0 },
    });
    await assert.rejects(wrong.sendToAll("hello", { contentType: "text/plain" }), (err) => err.statusCode === 401);

    run.child.kill("SIGTERM");
    assert.equal((await withTimeout("wps serve to exit", run.exited)).code, 0, run.output);
    assert.ok(!run.output.includes(key), "the output shows the key");
  });

  test("a second Ctrl-C ends a graceful shutdown at once", async () => {
    const key = randomBytes(32).toString("base64url");
    const port = await freePort();
    const run = wps(["serve", "--port", String(port)], { WEBPUBSUB_SERVE_KEY: key });
    await waitUntil("the banner", () => run.stdout.includes("Connection string:") || run.child.exitCode !== null);
    const rest = new WebPubSubServiceClient(`Endpoint=http://127.0.0.1:${port};AccessKey=${key};Version=1.0;`, "hub", {
      allowInsecureConnection: true,
    });
    // A client that stops reading never answers the close frame, so the
    // shutdown waits for it.
    const stuck = await openRaw((await rest.getClientAccessToken({ userId: "stuck" })).url);
    stuck.stopReading();

    run.child.kill("SIGINT");
    await waitUntil("the shutdown to say what it waits for", () => run.stderr.includes("waiting for clients to answer their close frames"));
    assert.match(run.stdout, /Ctrl-C again stops at once/);
    assert.match(run.stderr, /waiting for clients to answer their close frames" connections=1/);
    run.child.kill("SIGINT");
    const exit = await withTimeout("wps serve to exit", run.exited);
    // Killed by the second signal, not ended by the graceful shutdown.
    assert.deepEqual(exit, { code: null, signal: "SIGINT" }, run.output);
    stuck.close();
  });
});
