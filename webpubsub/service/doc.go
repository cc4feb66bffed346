// Package service is an in-memory Azure Web PubSub service: the REST data
// plane (api-version 2024-12-01 and earlier) and the client WebSocket endpoint
// with the plain, json.webpubsub.azure.v1 and json.reliable.webpubsub.azure.v1
// subprotocols. wps uses it as the default target when no connection string
// is set, and `wps serve` runs it on its own. New returns a Service, which is
// an http.Handler; Listen serves one on a TCP address. Everything lives in
// memory and is lost on Close.
//
// There are no event handlers (upstream), so the service behaves as a hub
// with none configured: a frame from a plain WebSocket client closes that
// connection with code 1000 (the documented behaviour when no "message"
// handler exists), and an "event" message from a subprotocol client is
// acknowledged as a success and dropped (logged at debug level).
//
// Where the public documentation is silent: hub names are compared
// case-insensitively; tokens get 30 seconds of clock skew; a REST token's
// aud must name the request path as the client escaped it (scheme, host,
// query and a trailing slash are ignored, and the hub's case) and a client
// token's aud must be {endpoint}/client/hubs/{hub}; a user added to a group
// takes its later connections along while it stays connected; grant and
// revoke without targetName act on every group; a REST close takes the
// connection out of its hub at once; messageTtlSeconds drops messages still
// queued when they expire; a dropped reliable connection stays in its
// groups, buffering, for 30 seconds.
//
// Text is UTF-8 everywhere a client receives it in a text frame: REST
// text/plain and application/json bodies, client text frames and close
// reasons that are not valid UTF-8 are refused (400, or close code 1007)
// before anything reaches another client.
//
// Slow and silent clients: a connection whose queue of messages not yet
// written passes Options.MaxQueueBytes (16 MiB) is closed with the reason
// SlowClient and its messages are let go, so one client that stops reading
// cannot hold the service's memory; a client silent for
// Options.PingTimeout, though pinged every Options.PingInterval, is closed
// with the reason PingTimeout. Both use close code 1008, after which the
// reliable protocol does not try to recover. Every read and write has a
// deadline.
package service
