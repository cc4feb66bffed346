// Package wsclient is a Web PubSub client connection: a real WebSocket to a
// hub, as a browser or the official client SDKs open it, for troubleshooting
// (what does a user really receive?) and for tests. The Lua wps.connect
// binding is built on it.
//
// Dial a client access URL (one with an access_token) with one of three
// protocols: json (json.webpubsub.azure.v1), reliable
// (json.reliable.webpubsub.azure.v1) or raw (no subprotocol). On json and
// reliable connections, JoinGroup, LeaveGroup, SendToGroup and SendEvent wait
// for the service's ack and return an *AckError when it refuses; Receive
// returns the group and server messages in arrival order.
//
// A reliable connection acknowledges the sequence ids it receives and, when
// its socket drops unexpectedly, reconnects with the same connection id and
// its reconnection token, for up to Options.RecoveryTimeout; messages the
// service replays are delivered once, and requests still waiting for an ack
// are sent again (the service answers Duplicate for those it already did,
// which counts as success).
//
// A Conn is safe for concurrent use. One goroutine reads the socket; writes
// are serialized. Every call taking a context returns promptly when the
// context is done. Errors never contain the access token.
package wsclient
