// Raw WebSocket clients and raw REST calls for the tests of what a careless
// or hostile client tries: bytes the SDKs would never send (text that is not
// UTF-8), a client that stops reading, a client that answers no ping, tokens
// the SDKs would not sign. Clients use the `ws` package, the WebSocket
// library @azure/web-pubsub-client itself runs on.

import WebSocket from "ws";
import { eventTimeoutMs, signToken } from "./harness.js";

/** The plain and JSON subprotocols of the service. */
export const jsonProtocol = "json.webpubsub.azure.v1";
export const reliableProtocol = "json.reliable.webpubsub.azure.v1";

/**
 * RawClient is one `ws` WebSocket on a hub. It records every data frame it
 * receives (text as a string, binary as a Buffer) and how it closed.
 */
export class RawClient {
  constructor(ws) {
    this.ws = ws;
    /** Received data frames, in order. */
    this.frames = [];
    /** Protocol pings received. */
    this.pings = 0;
    this.waiters = [];
    /** Resolves with {code, reason} when the socket closes. */
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString("utf8"), reasonBytes: reason });
        this.notify();
      });
    });
    ws.on("message", (data, isBinary) => {
      this.frames.push(isBinary ? data : data.toString("utf8"));
      this.notify();
    });
    ws.on("ping", () => {
      this.pings += 1;
      this.notify();
    });
    ws.on("error", () => {}); // a refused or reset socket ends in "close"
  }

  notify() {
    this.waiters = this.waiters.filter((check) => !check());
  }

  /** Resolves once check() holds, checked on every event; rejects after timeoutMs. */
  until(what, check, timeoutMs = eventTimeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== attempt);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; frames: ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      const attempt = () => {
        const value = check();
        if (!value) return false;
        clearTimeout(timer);
        resolve(value);
        return true;
      };
      if (!attempt()) this.waiters.push(attempt);
    });
  }

  /** The received frames parsed as JSON (for the JSON subprotocols). */
  json() {
    return this.frames.filter((f) => typeof f === "string").map((f) => JSON.parse(f));
  }

  /** Sends bytes in a text frame, as they are (ws does not check them). */
  sendText(bytes) {
    this.ws.send(bytes, { binary: false });
  }

  /** Stops reading from the socket: the kernel buffers fill, then the service's writes block. */
  stopReading() {
    this.ws._socket.pause();
  }

  /** Reads again after stopReading. */
  resumeReading() {
    this.ws._socket.resume();
  }

  close() {
    this.ws.terminate();
  }
}

/**
 * Opens a RawClient on url with an optional subprotocol and ws options,
 * and waits until it is open (and, for a JSON subprotocol, has its
 * connected message, whose connectionId it sets). Rejects with the HTTP
 * status and body of a refused handshake.
 */
export async function openRaw(url, protocol, options = {}) {
  const ws = new WebSocket(url, protocol ? [protocol] : [], options);
  const client = new RawClient(ws);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out opening a WebSocket")), eventTimeoutMs);
    ws.once("open", () => {
      clearTimeout(timer);
      resolve();
    });
    ws.once("unexpected-response", (req, res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        clearTimeout(timer);
        const err = new Error(`handshake refused: ${res.statusCode} ${body}`);
        err.status = res.statusCode;
        err.body = body;
        reject(err);
      });
    });
  });
  if (protocol) {
    const connected = await client.until("the connected message", () => client.json().find((m) => m.event === "connected"));
    client.connectionId = connected.connectionId;
  }
  return client;
}

/**
 * Opens a RawClient on hub of service with a token from the server SDK for
 * tokenOptions ({userId, roles, groups}). Its clients are closed after the
 * test by trackRaw's cleanup.
 */
export async function connectRaw(service, hub, tokenOptions = {}, protocol = undefined, options = {}) {
  const { url } = await service.serviceClient(hub).getClientAccessToken(tokenOptions);
  const client = await openRaw(url, protocol, options);
  rawClients.add(client);
  return client;
}

const rawClients = new Set();

/** Closes every RawClient made by connectRaw; call it after each test. */
export function closeRawClients() {
  for (const client of rawClients) client.close();
  rawClients.clear();
}

/**
 * Makes a REST call with a token signed for its URL, as the SDKs sign, and
 * returns {status, body}. path is below the endpoint and gets api-version.
 * body may be a Buffer, to send bytes the SDKs would not.
 */
export async function restCall(service, method, path, { contentType, body, audience } = {}) {
  const url = `${service.endpoint}${path}${path.includes("?") ? "&" : "?"}api-version=2024-12-01`;
  const now = Math.floor(Date.now() / 1000);
  const token = signToken({ aud: audience ?? url, exp: now + 600 }, service.key);
  const headers = { authorization: `Bearer ${token}` };
  if (contentType) headers["content-type"] = contentType;
  const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(eventTimeoutMs) });
  return { status: res.status, body: await res.text() };
}
