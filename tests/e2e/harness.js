// Harness for the end-to-end suite: runs `wps serve` as a child process and
// connects the official npm SDKs to it.
//
// Each test file calls setUpService() once, which starts the service before
// the file's tests and stops it after them. The service gets a free loopback
// port and a random access key (not the well-known dev key), so
// authentication is really exercised. The wps binary comes from $WPS_BIN;
// when that is unset the harness builds one with `go build` from the
// repository root. Every wait has a timeout, and the child is killed when the
// test process exits, whatever the outcome.

import { execFileSync, spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, afterEach, before } from "node:test";
import { fileURLToPath } from "node:url";
import { WebPubSubServiceClient } from "@azure/web-pubsub";
import { WebPubSubClient } from "@azure/web-pubsub-client";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** How long to wait for one expected event (a message, a close, the health check). */
export const eventTimeoutMs = 10_000;

/**
 * Returns the options every test client gets on top of the SDK defaults,
 * with overrides applied. A short keep-alive makes the client ping every
 * second and give up on a socket that stays silent for 6 s, so a service
 * that does not answer pings fails the suite; it also lets a stopped client
 * release the test process at once (the SDK's keep-alive loops sleep a full
 * interval before noticing a stop).
 * Failed sends are not retried, so a refusal surfaces at once. Automatic
 * reconnection (a new connection after one ended for good; recovery of a
 * dropped socket does not depend on it) is off unless a test turns it on:
 * the SDK's stop() is ignored while a reconnect attempt is between sockets,
 * which would leave a client running after its test.
 */
export function clientOptions(overrides = {}) {
  // A fresh object each time: the SDK writes its defaults into the options it is given.
  return {
    autoReconnect: false,
    keepAliveIntervalInMs: 1000,
    keepAliveTimeoutInMs: 6000,
    messageRetryOptions: { maxRetries: 0 },
    ...overrides,
  };
}

/**
 * Children still running; killed when the test process exits or is told to
 * stop (the test runner sends SIGTERM to a file that runs too long), so no
 * orphan survives a crash.
 */
const runningChildren = new Set();
function killChildren() {
  for (const child of runningChildren) child.kill("SIGKILL");
}
process.on("exit", killChildren);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    killChildren();
    process.kill(process.pid, signal); // the once-handler is gone: die of the signal as usual
  });
}

/** Returns the wps binary to test: $WPS_BIN, or a fresh build of the repository. */
function wpsBinary() {
  if (process.env.WPS_BIN) return process.env.WPS_BIN;
  const dir = mkdtempSync(join(tmpdir(), "wps-e2e-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, "wps");
  execFileSync("go", ["build", "-o", out, "."], { cwd: repoRoot, stdio: "inherit", timeout: 300_000 });
  process.env.WPS_BIN = out; // later files in this process reuse it
  return out;
}

/**
 * Runs the wps binary with args (and env added to this process's
 * environment, where an undefined value removes a variable) and returns the
 * child, everything it printed so far (output, stdout and stderr
 * interleaved) and a promise of its exit ({code, signal} or {error}). The
 * child is killed when the test process exits.
 */
export function spawnWps(args, env = {}) {
  const childEnv = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  const child = spawn(wpsBinary(), args, { stdio: ["ignore", "pipe", "pipe"], env: childEnv });
  const run = { child, output: "", stdout: "", stderr: "" };
  runningChildren.add(child);
  child.stdout.on("data", (d) => {
    run.output += d;
    run.stdout += d;
  });
  child.stderr.on("data", (d) => {
    run.output += d;
    run.stderr += d;
  });
  run.exited = new Promise((r) => {
    child.on("error", (err) => {
      runningChildren.delete(child); // e.g. no such binary; "exit" may never come
      r({ error: err });
    });
    child.on("exit", (code, signal) => {
      runningChildren.delete(child);
      r({ code, signal });
    });
  });
  return run;
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Resolves after ms milliseconds. */
export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls check() until it returns a truthy value, or throws after timeoutMs
 * with what was awaited. Used for asynchronous effects such as a close taking
 * effect; it never asserts on how long something took.
 */
export async function waitUntil(what, check, timeoutMs = eventTimeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Sets up the service of a test file: registers node:test hooks that start
 * `wps serve` before the file's tests, stop the clients each test made after
 * it, and stop the service after the file. Call it once, at the top level of
 * the file; the Service it returns is running when the tests run. args are
 * more flags for `wps serve`, such as ["--ping-interval", "100ms"].
 */
export function setUpService(args = []) {
  const service = new Service(args);
  before(() => service.start());
  afterEach(() => service.stopClients());
  after(() => service.stop());
  return service;
}

/** Counter that makes hub names unique within one service. */
let hubCounter = 0;

/** Service is one `wps serve` child and the SDK clients made for it. */
class Service {
  constructor(args = []) {
    /** More flags for `wps serve`. */
    this.args = args;
    /** The service's HTTP endpoint, e.g. http://127.0.0.1:PORT (set by start). */
    this.endpoint = undefined;
    this.key = undefined;
    this.child = undefined;
    this.exited = undefined;
    /** The child's run, from spawnWps. */
    this.run = undefined;
    this.clients = new Set();
  }

  /** Everything the child printed so far (for failure messages). */
  get output() {
    return this.run?.output ?? "";
  }

  /**
   * Starts `wps serve` on a free port with a random key and waits until
   * HEAD /api/health answers 200. The caller must call stop() when finished,
   * also when start() fails.
   */
  async start() {
    const bin = wpsBinary();
    const port = await freePort();
    this.key = randomBytes(32).toString("base64url");
    this.endpoint = `http://127.0.0.1:${port}`;
    const run = spawnWps(["serve", "--port", String(port), "--key", this.key, ...this.args]);
    const child = run.child;
    this.child = child;
    this.run = run;
    let exited = false;
    let spawnError;
    this.exited = run.exited.then((result) => {
      exited = true;
      spawnError = result.error;
      return result;
    });

    try {
      await waitUntil(`HEAD ${this.endpoint}/api/health to answer 200`, async () => {
        if (spawnError) throw new Error(`cannot run ${bin}: ${spawnError.message}`);
        if (exited) throw new Error(`wps serve exited early; output:\n${this.output}`);
        try {
          const res = await fetch(`${this.endpoint}/api/health`, { method: "HEAD", signal: AbortSignal.timeout(1000) });
          return res.status === 200;
        } catch {
          return false;
        }
      });
    } catch (err) {
      await this.stop();
      err.message += `\nwps serve output:\n${this.output}`;
      throw err;
    }
  }

  /** The connection string an app would be given. */
  connectionString(key = this.key) {
    return `Endpoint=${this.endpoint};AccessKey=${key};Version=1.0;`;
  }

  /** Returns a hub name not used before in this process. */
  newHub(prefix = "hub") {
    hubCounter += 1;
    return `${prefix}_${hubCounter}`;
  }

  /**
   * Returns a server SDK client for hub, as an app builds it from its
   * connection string; key defaults to the service's key. The endpoint is
   * plain http, which Azure SDK pipelines refuse unless the app sets the
   * standard allowInsecureConnection option, as it would for any local
   * emulator. Retries are off so that a failing call fails at once.
   */
  serviceClient(hub, key = this.key) {
    return new WebPubSubServiceClient(this.connectionString(key), hub, {
      allowInsecureConnection: true,
      retryOptions: { maxRetries: 0 },
    });
  }

  /**
   * Connects a WebPubSubClient (default reliable JSON protocol) to hub with a
   * token from getClientAccessToken(tokenOptions), and waits for its
   * "connected" event. overrides are passed to clientOptions(). Returns a
   * Connection. All connections are stopped by stopClients().
   */
  async connect(hub, tokenOptions = {}, overrides = {}) {
    const serviceClient = this.serviceClient(hub);
    const client = new WebPubSubClient(
      { getClientAccessUrl: async () => (await serviceClient.getClientAccessToken(tokenOptions)).url },
      clientOptions(overrides),
    );
    const connection = new Connection(client);
    this.clients.add(client);
    const connected = connection.next("connected");
    await withTimeout("client.start()", client.start());
    const event = await connected;
    connection.connectionId = event.connectionId;
    connection.userId = event.userId;
    return connection;
  }

  /** Stops every client made by connect() (so none keeps reconnecting). */
  stopClients() {
    for (const client of this.clients) client.stop();
    this.clients.clear();
  }

  /** Stops all clients, then the child: SIGTERM, and SIGKILL if it lingers. */
  async stop() {
    this.stopClients();
    if (this.child === undefined) return; // never started
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    this.child.kill("SIGTERM");
    try {
      await withTimeout("wps serve to exit after SIGTERM", this.exited, 5000);
    } catch {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}

/**
 * Connection wraps one started WebPubSubClient and records every server and
 * group message it receives, in order.
 */
export class Connection {
  constructor(client) {
    this.client = client;
    this.connectionId = undefined;
    this.userId = undefined;
    /** Every received message, as the SDK parsed it (kind "serverData" or "groupData"). */
    this.messages = [];
    this.waiters = [];
    const record = (e) => {
      this.messages.push(e.message);
      this.waiters = this.waiters.filter((w) => !w());
    };
    client.on("server-message", record);
    client.on("group-message", record);
  }

  /** Resolves with the next `name` event of the client that satisfies match. */
  next(name, match = () => true, timeoutMs = eventTimeoutMs) {
    return new Promise((resolveEvent, reject) => {
      const listener = (e) => {
        if (!match(e)) return;
        clearTimeout(timer);
        this.client.off(name, listener);
        resolveEvent(e);
      };
      const timer = setTimeout(() => {
        this.client.off(name, listener);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a "${name}" event`));
      }, timeoutMs);
      this.client.on(name, listener);
    });
  }

  /**
   * Resolves with the first recorded message (past or future) that satisfies
   * match, and with every message recorded before it.
   */
  waitForMessage(describe, match, timeoutMs = eventTimeoutMs) {
    return new Promise((resolveMessage, reject) => {
      const check = () => {
        const index = this.messages.findIndex(match);
        if (index < 0) return false;
        clearTimeout(timer);
        resolveMessage({ message: this.messages[index], before: this.messages.slice(0, index) });
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${describe}; received: ${JSON.stringify(this.messages.map(summary))}`,
          ),
        );
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  /** Returns the payloads of the recorded messages, in order. */
  payloads() {
    return this.messages.map((m) => m.data);
  }
}

/** Returns a short form of a received message for error texts. */
function summary(m) {
  const data = m.data instanceof ArrayBuffer ? `<${m.data.byteLength} bytes>` : m.data;
  return m.kind === "groupData" ? { group: m.group, data } : { data };
}

/** Rejects if promise does not settle within ms. */
export function withTimeout(what, promise, ms = eventTimeoutMs) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Signs claims as an HS256 JWT with key (the UTF-8 bytes of the access key,
 * as every SDK does). Used to build tokens an SDK would refuse to make, such
 * as expired ones.
 */
export function signToken(claims, key) {
  const encode = (obj) => Buffer.from(JSON.stringify(obj)).toString("base64url");
  const unsigned = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}`;
  const signature = createHmac("sha256", Buffer.from(key, "utf8")).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}

/**
 * Returns a unique marker payload and a matcher for it. Tests that check a
 * message was NOT delivered send the unwanted message first and then a marker
 * to the same connection: per-connection order means that once the marker
 * arrives, anything sent before it has arrived too.
 */
let markerCounter = 0;
export function marker(label = "marker") {
  markerCounter += 1;
  const text = `${label}-${markerCounter}-${randomBytes(4).toString("hex")}`;
  return { text, matches: (m) => m.data === text };
}

/**
 * Sends a marker to conn by connection id through the server client rest,
 * waits for it, and returns the payloads conn received before it: what a
 * test checks to show that an unwanted message was not delivered.
 */
export async function payloadsBeforeMarker(rest, conn) {
  const m = marker();
  await rest.sendToConnection(conn.connectionId, m.text, { contentType: "text/plain" });
  const { before } = await conn.waitForMessage(`marker ${m.text}`, m.matches);
  return before.map((msg) => msg.data);
}
