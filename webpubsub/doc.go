// Package webpubsub is a client for the Azure Web PubSub data-plane REST API
// (api-version 2024-12-01), for one hub at a time.
//
// It sends the same bytes as Microsoft's official SDKs (the Python package
// azure-messaging-webpubsubservice is the reference): requests are signed with
// an HS256 JWT over the access key whose audience is the full request URL,
// path segments are escaped with no safe characters, list parameters repeat
// their query key, and messages travel as JSON, text or binary bodies.
//
// A Client is made from a connection string or from an endpoint and a key:
//
//	client, err := webpubsub.NewClientFromConnectionString(os.Getenv("WEBPUBSUB_CONNECTION_STRING"), "chat", nil)
//	if err != nil { ... }
//	msg, _ := webpubsub.JSONMessage(map[string]string{"text": "hello"})
//	err = client.SendToGroup(ctx, "ops", msg, nil)
//
// Every failed call returns an *Error that carries the HTTP status, the
// service's error code, the operation and the request id. Arguments the
// service would refuse (a bad hub name, an empty id, a TTL out of range, a
// content type the API does not accept) are rejected before any request with
// an error that wraps ErrInvalidArgument. Transient failures (connection
// errors, 408, 429, 500, 502, 503, 504) are retried with exponential backoff
// and jitter, honouring Retry-After.
//
// Keys and signed tokens never appear in errors or log records: the debug
// logging of requests redacts the Authorization header and access_token
// query values.
package webpubsub
