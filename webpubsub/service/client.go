package service

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// serveClient handles /client/hubs/{hub} and /client/?hub={hub}: it checks
// the hub and the token (or the recovery parameters of a reliable client)
// and upgrades to a WebSocket.
func (s *Service) serveClient(w http.ResponseWriter, r *http.Request) {
	hubName, err := clientHub(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if err := checkHub(hubName); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		http.Error(w, "not a WebSocket request: connect with a WebSocket client", http.StatusBadRequest)
		return
	}
	s.mu.RLock()
	closing := s.closing
	s.mu.RUnlock()
	if closing {
		http.Error(w, "the service is shutting down", http.StatusServiceUnavailable)
		return
	}
	kind := chooseKind(websocket.Subprotocols(r))
	header := http.Header{}
	if kind != plainClient {
		header.Set("Sec-WebSocket-Protocol", kind.String())
	}

	// A recovering reliable client still sends its old, maybe expired,
	// token: the recovery parameters are checked instead.
	query := r.URL.Query()
	if id := query.Get("awps_connection_id"); id != "" {
		s.recoverConnection(w, r, header, hubName, id, query.Get("awps_reconnection_token"))
		return
	}

	token := query.Get("access_token")
	if token == "" {
		token = bearerToken(r)
	}
	var claims *tokenClaims
	if token == "" {
		err = errors.New("no access token: connect with the client access token in the access_token query parameter " +
			"(…/client/hubs/" + hubName + "?access_token=<token>), or in an Authorization: Bearer header")
	} else {
		claims, err = parseToken(token, s.key)
	}
	if err == nil {
		err = checkClientAudience(claims, hubName)
	}
	if err != nil {
		s.log.Info("client connection refused", "hub", hubName, "error", err)
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	groups := append(append([]string{}, claims.Groups...), claims.GroupsAlias...)
	for _, g := range groups {
		if err := checkGroup(g); err != nil {
			http.Error(w, "the token's webpubsub.group claim has an "+err.Error(), http.StatusBadRequest)
			return
		}
	}

	c := &connection{
		id:          s.newConnectionID(),
		userID:      claims.Subject,
		kind:        kind,
		service:     s,
		permissions: rolePermissions(claims.Roles),
	}
	if kind == reliableClient {
		c.reconnectToken = encodeToken(randomBytes(24))
	}
	sock := &socket{}
	c.sock = sock
	if kind != plainClient {
		connected := connectedFrame(c.userID, c.id, c.reconnectToken)
		c.queue = append(c.queue, outgoing{control: connected, size: len(connected) + frameOverhead})
		c.queued = len(connected) + frameOverhead
	}

	// The connection joins its hub before the handshake completes, so a
	// REST call made as soon as the client is connected already finds it;
	// what is sent to it waits in its queue.
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		http.Error(w, "the service is shutting down", http.StatusServiceUnavailable)
		return
	}
	h := s.hubs[hubKey(hubName)]
	if h == nil {
		h = newHub(hubName)
		s.hubs[hubKey(hubName)] = h
	}
	c.hub = h
	h.add(c, groups)
	s.sockets.Add(1) // the reader; under s.mu with closing false, so never after Close's Wait began
	s.mu.Unlock()

	ws, err := s.upgrader.Upgrade(w, r, header)
	if err != nil { // the upgrader has answered the client
		c.mu.Lock()
		c.ended, c.sock = true, nil
		c.mu.Unlock()
		s.removeConnection(c, "WebSocket handshake failed")
		s.sockets.Done()
		return
	}
	c.mu.Lock()
	s.attachSocket(sock, ws)
	if len(c.queue) > 0 { // the connected message, and whatever came meanwhile
		c.startWriterLocked()
	}
	c.mu.Unlock()
	s.log.Info("client connected", "hub", hubName, "connectionId", c.id, "userId", c.userID, "protocol", kind.String())
	go c.readLoop(sock)
}

// track counts one more socket goroutine, unless the service is closing.
func (s *Service) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.sockets.Add(1)
	return true
}

// clientHub returns the hub named in the path /client/hubs/{hub} or in the
// query of /client/?hub={hub}.
func clientHub(r *http.Request) (string, error) {
	path := strings.TrimSuffix(r.URL.EscapedPath(), "/")
	if path == "/client" {
		if hub := r.URL.Query().Get("hub"); hub != "" {
			return hub, nil
		}
		return "", errors.New("no hub: connect to /client/hubs/{hub} or /client/?hub={hub}")
	}
	rest, ok := strings.CutPrefix(path, "/client/hubs/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", errors.New("unknown client path: connect to /client/hubs/{hub} or /client/?hub={hub}")
	}
	return url.PathUnescape(rest)
}

// chooseKind picks the first supported subprotocol the client offers.
func chooseKind(offered []string) clientKind {
	for _, p := range offered {
		switch p {
		case jsonSubprotocol:
			return jsonClient
		case reliableSubprotocol:
			return reliableClient
		}
	}
	return plainClient
}

// rolePermissions turns token roles into permissions: the role
// webpubsub.joinLeaveGroup.g becomes joinLeaveGroup.g, and the wildcard
// role webpubsub.sendToGroups.<pattern> becomes sendToGroups.<pattern>.
// Other roles, and patterns with more than maxPatternStars stars, are
// ignored.
func rolePermissions(roles []string) map[string]bool {
	perms := map[string]bool{}
	for _, role := range roles {
		p, ok := strings.CutPrefix(role, "webpubsub.")
		if !ok {
			continue
		}
		for _, name := range []string{permJoinLeave, permSend} {
			wildcard, isWildcard := strings.CutPrefix(p, name+"s.")
			if p == name || strings.HasPrefix(p, name+".") || isWildcard && strings.Count(wildcard, "*") <= maxPatternStars {
				perms[p] = true
			}
		}
	}
	return perms
}

// newSocket wraps ws for a connection.
func (s *Service) newSocket(ws *websocket.Conn) *socket {
	sock := &socket{}
	s.attachSocket(sock, ws)
	return sock
}

// attachSocket makes ws the WebSocket of sock: it limits the frame size,
// notes everything the client sends (pings and pongs included) for the
// keep-alive sweep, and bounds the first read. The caller holds the
// connection's mutex, if sock belongs to one yet.
func (s *Service) attachSocket(sock *socket, ws *websocket.Conn) {
	ws.SetReadLimit(maxFrameSize)
	now := time.Now()
	sock.lastHeard = now
	ws.SetReadDeadline(s.readDeadline(now))
	ws.SetPongHandler(func(string) error {
		sock.hear()
		return nil
	})
	ws.SetPingHandler(func(data string) error {
		sock.hear()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(s.writeWait))
		if err == websocket.ErrCloseSent {
			return nil
		}
		if e, ok := err.(net.Error); ok && e.Timeout() {
			return nil
		}
		return err
	})
	sock.ws = ws
}

// hear notes that the client sent something.
func (sock *socket) hear() {
	if !sock.heard.Load() {
		sock.heard.Store(true)
	}
}

// recoverConnection attaches a new socket to a dropped reliable connection
// and replays every message the client has not acknowledged. When that is
// not possible, the socket is opened and closed with code 1008, which tells
// the client to start a new connection.
func (s *Service) recoverConnection(w http.ResponseWriter, r *http.Request, header http.Header, hubName, id, token string) {
	s.mu.RLock()
	var c *connection
	if h := s.hubLocked(hubName); h != nil {
		c = h.connections[id]
	}
	s.mu.RUnlock()
	ws, err := s.upgrader.Upgrade(w, r, header)
	if err != nil {
		return
	}
	if !s.track() { // the reader, or the goroutine that refuses the recovery
		closeSocket(ws, websocket.CloseGoingAway, "The service is shutting down.")
		ws.Close()
		return
	}
	sock := s.newSocket(ws)
	err = errNotRecoverable
	if c != nil && c.kind == reliableClient && chooseKind(websocket.Subprotocols(r)) == reliableClient &&
		subtle.ConstantTimeCompare([]byte(token), []byte(c.reconnectToken)) == 1 {
		err = c.attach(sock)
	}
	if err != nil {
		s.log.Info("client recovery refused", "hub", hubName, "connectionId", id, "error", err)
		go func() {
			defer s.sockets.Done()
			closeSocket(ws, websocket.ClosePolicyViolation, err.Error())
			for {
				if _, _, err := ws.NextReader(); err != nil {
					break
				}
			}
			ws.Close()
		}()
		return
	}
	s.log.Info("client recovered", "hub", hubName, "connectionId", id)
	go c.readLoop(sock)
}

// attach makes sock the socket of a reliable connection and queues every
// unacknowledged message on it, in order. The caller has counted sock's
// reader in Service.sockets.
func (c *connection) attach(sock *socket) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return errNotRecoverable
	}
	if old := c.sock; old != nil && old.ws != nil {
		old.ws.Close() // its reader sees it was replaced and leaves c alone
	}
	if c.recoveryTimer != nil {
		c.recoveryTimer.Stop()
		c.recoveryTimer = nil
	}
	c.sock = sock
	c.queue, c.queued = nil, 0 // frames queued for the old socket are dropped; unacked data is replayed below
	for _, u := range c.unacked {
		size := u.msg.wireSize(c.kind) + frameOverhead
		c.queue = append(c.queue, outgoing{msg: u.msg, seq: u.seq, size: size})
		c.queued += size
	}
	if len(c.queue) > 0 {
		c.startWriterLocked()
	}
	return nil
}

// readLoop reads the frames of sock until it ends, then decides whether
// the connection ends too.
func (c *connection) readLoop(sock *socket) {
	defer c.service.sockets.Done()
	var err error
	for {
		var frame []byte
		var kind int
		kind, frame, err = sock.ws.ReadMessage()
		if err != nil {
			break
		}
		sock.hear()
		c.handleFrame(kind, frame)
	}
	sock.ws.Close()
	c.socketEnded(sock, err)
}

// socketEnded runs when a socket's reader stops. A reliable connection
// whose socket dropped (no close from either side) waits recoveryWindow
// for its client; any other connection ends.
func (c *connection) socketEnded(sock *socket, err error) {
	s := c.service
	s.mu.RLock()
	closing := s.closing
	s.mu.RUnlock()
	c.mu.Lock()
	if c.sock != sock {
		c.mu.Unlock()
		return // a recovery replaced this socket
	}
	c.sock = nil
	c.queue, c.queued = nil, 0
	// A close frame from the client, whatever its code, means it stopped
	// on purpose: the JavaScript client's stop() sends one without a
	// status code. Only a socket that dropped without one (which gorilla
	// reports as code 1006) is recoverable.
	var closeErr *websocket.CloseError
	clientClosed := errors.As(err, &closeErr) && closeErr.Code != websocket.CloseAbnormalClosure
	if !c.ended && !closing && c.kind == reliableClient && !sock.closing && !clientClosed {
		c.recoveryTimer = time.AfterFunc(recoveryWindow, func() {
			c.mu.Lock()
			expired := c.sock == nil && !c.ended
			c.ended = c.ended || expired
			c.mu.Unlock()
			if expired {
				s.removeConnection(c, "Connection recovery timed out.")
			}
		})
		c.mu.Unlock()
		s.log.Info("client dropped, waiting for recovery", "hub", c.hub.name, "connectionId", c.id, "error", err)
		return
	}
	c.ended = true
	c.releaseLocked()
	c.mu.Unlock()
	s.undrain(c)
	reason := "closed"
	if err != nil {
		reason = err.Error()
	}
	s.removeConnection(c, reason)
}

// removeConnection takes c out of its hub, if it is still there.
func (s *Service) removeConnection(c *connection, reason string) {
	s.mu.Lock()
	removed := c.hub.remove(c)
	s.mu.Unlock()
	if removed {
		s.log.Info("client disconnected", "hub", c.hub.name, "connectionId", c.id, "userId", c.userID, "reason", reason)
	}
}

// upgradeError answers a failed WebSocket handshake.
func (s *Service) upgradeError(w http.ResponseWriter, r *http.Request, status int, reason error) {
	http.Error(w, "WebSocket handshake failed: "+reason.Error(), status)
}
