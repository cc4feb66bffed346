package webpubsub

// This file holds the limits and names of the REST API that callers check
// before a call (the Lua module among them), so that each is written once.
// The content types are ContentTypeJSON, ContentTypeText and
// ContentTypeBinary (message.go), and the client protocols
// ClientProtocolDefault, ClientProtocolMQTT and ClientProtocolSocketIO
// (token.go); ContentTypes and ClientProtocols list them.

// Message time-to-live, in seconds, for SendOptions.TTLSeconds: MinTTLSeconds
// (0, the default) means the message never expires.
const (
	MinTTLSeconds = 0
	MaxTTLSeconds = 300
)

// Page size for ListOptions.MaxPageSize, where 0 means the service's default.
const (
	MinListPageSize = 1
	MaxListPageSize = 200
)

// Lifetime of a client access token, in minutes, for
// TokenOptions.MinutesToExpire, where 0 means DefaultMinutesToExpire.
// MaxMinutesToExpire (a year) keeps the expiry far from overflowing a
// time.Duration.
const (
	MinMinutesToExpire     = 1
	DefaultMinutesToExpire = 60
	MaxMinutesToExpire     = 60 * 24 * 365
)

// Lengths of names, in characters: a hub name has 1 to MaxHubNameLength
// (see CheckHubName), a group name 1 to MaxGroupNameLength.
const (
	MaxHubNameLength   = 128
	MaxGroupNameLength = 1024
)

// Permission is a permission a connection can be granted on a group.
type Permission string

// The permissions of the REST API.
const (
	PermissionSendToGroup    Permission = "sendToGroup"
	PermissionJoinLeaveGroup Permission = "joinLeaveGroup"
)

// Permissions returns the permissions of the REST API, in a new slice.
func Permissions() []Permission {
	return []Permission{PermissionSendToGroup, PermissionJoinLeaveGroup}
}

// ClientProtocols returns the client protocols a token can be for, in a new
// slice; an empty ClientProtocol means ClientProtocolDefault.
func ClientProtocols() []ClientProtocol {
	return []ClientProtocol{ClientProtocolDefault, ClientProtocolMQTT, ClientProtocolSocketIO}
}

// ContentTypes returns the media types a message can have, in a new slice.
func ContentTypes() []string {
	return []string{ContentTypeJSON, ContentTypeText, ContentTypeBinary}
}
