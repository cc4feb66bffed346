package service

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestServer_ListenAndClose(t *testing.T) {
	server, err := Listen("127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(server.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q", server.URL)
	}
	if want := "Endpoint=" + server.URL + ";AccessKey=" + DevelopmentKey + ";Version=1.0;"; server.ConnectionString != want {
		t.Errorf("ConnectionString = %q, want %q", server.ConnectionString, want)
	}
	resp, err := http.Head(server.URL + "/api/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}

	base := "ws" + strings.TrimPrefix(server.URL, "http")
	token, _ := signClientToken(DevelopmentKey, server.URL+"/client/hubs/chat", "u", nil, nil, time.Hour)
	plain := dial(t, base+"/client/hubs/chat?access_token="+token, "")
	js := dial(t, base+"/client/hubs/chat?access_token="+token, jsonSubprotocol)
	readJSON(t, js)
	reliable := dial(t, base+"/client/hubs/chat?access_token="+token, reliableSubprotocol)
	readJSON(t, reliable)

	closed := make(chan error, 1)
	go func() { closed <- server.Close(context.Background()) }()
	for _, ws := range []*websocket.Conn{plain, js, reliable} {
		if ce := readClose(t, ws); ce.Code != websocket.CloseGoingAway {
			t.Errorf("closed with %v, want 1001", ce)
		}
		// Answer the close, as a well-behaved client does.
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), timeoutFromNow())
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := http.Head(server.URL + "/api/health"); err == nil {
		t.Errorf("the server still answers after Close")
	}
}

func TestServer_CloseGivesUp(t *testing.T) {
	server, err := Listen("127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	token, _ := signClientToken(DevelopmentKey, server.URL+"/client/hubs/chat", "", nil, nil, time.Hour)
	ws := dial(t, "ws"+strings.TrimPrefix(server.URL, "http")+"/client/hubs/chat?access_token="+token, "")
	_ = ws // a client that never answers the close frame
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := server.Close(ctx); err != context.Canceled {
		t.Errorf("Close with a done context = %v, want context.Canceled", err)
	}
}

func TestServer_BadKey(t *testing.T) {
	for _, key := range []string{"a;b", "a b", "a\nb"} {
		_, err := Listen("127.0.0.1:0", Options{AccessKey: key})
		if err == nil || !strings.Contains(err.Error(), "must not contain ';', spaces or line breaks") {
			t.Errorf("Listen with key %q: %v, want an error about the key", key, err)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("the error quotes the key: %v", err)
		}
	}
	if err := CheckAccessKey(""); err == nil {
		t.Error("CheckAccessKey accepted an empty key")
	}
	if err := CheckAccessKey(DevelopmentKey); err != nil {
		t.Errorf("CheckAccessKey(DevelopmentKey): %v", err)
	}
	if _, err := Listen("256.0.0.1:0", Options{}); err == nil {
		t.Error("a bad address was accepted")
	}
}

func TestService_CloseRefusesClients(t *testing.T) {
	ts := newTestService(t)
	ws, _ := ts.connectJSON(t, jsonSubprotocol, "chat", "", nil, nil)
	closed := make(chan error, 1)
	go func() { closed <- ts.Service.Close(context.Background()) }()
	jsonEqual(t, mustRead(t, ws), `{"type":"system","event":"disconnected","message":"The service is shutting down."}`)
	if ce := readClose(t, ws); ce.Code != websocket.CloseGoingAway {
		t.Errorf("closed with %v", ce)
	}
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), timeoutFromNow())
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	_, resp, err := dialRaw(ts.clientURL(t, "chat", "", nil, nil), jsonSubprotocol)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: %v %v, want 503", err, resp)
	}
}

// TestService_LogsNoSecrets runs connections and REST calls with a logger
// at debug level and checks that neither the key nor any token shows up.
func TestService_LogsNoSecrets(t *testing.T) {
	var logs strings.Builder
	key := "a custom key that must never be logged 123456"
	ts := newTestServiceWith(t, Options{AccessKey: key, Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	token, _ := signClientToken(key, ts.server.URL+"/client/hubs/chat", "u", nil, nil, time.Hour)
	base := "ws" + strings.TrimPrefix(ts.server.URL, "http") + "/client/hubs/chat?access_token="
	ws := dial(t, base+token, jsonSubprotocol)
	readJSON(t, ws)
	writeJSON(t, ws, `{"type":"event","event":"e","data":1}`)
	dialRaw(base+token+"x", "") // refused: bad signature
	u := ts.server.URL + "/api/hubs/chat/:send?api-version=2024-12-01"
	restTok := restToken(t, key, u, time.Now().Add(time.Hour))
	wantStatus(t, ts.callWithToken(t, "POST", u, "text/plain", "hi", restTok), 202)
	wantStatus(t, ts.callWithToken(t, "POST", u, "text/plain", "hi", restTok+"x"), 401)
	ws.Close()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	ts.Service.Close(ctx)

	out := logs.String()
	for _, secret := range []string{key, token, restTok, strings.Split(token, ".")[2]} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a secret:\n%s", out)
		}
	}
	for _, want := range []string{"client connected", "rest call", "client connection refused", "client disconnected"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}

// syncWriter makes a writer safe for the service's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
