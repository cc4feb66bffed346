package wsclient

import "slices"

// Queued returns copies of the messages received and not yet taken by
// Receive, oldest first, and how many messages the connection has queued
// since it opened. It leaves them for Receive: a REPL uses it to show
// what arrived between evaluations (the last received-shown of queued are
// new since it last looked) without taking them from the script.
func (c *Conn) Queued() (queued []Message, received uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.queue), c.received
}
