package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExitStatus(t *testing.T) {
	timeout, cancel := WithTimeout(context.Background(), time.Nanosecond, "--timeout")
	defer cancel()
	<-timeout.Done()
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"Success", nil, StatusOK},
		{"OsExit", &ExitError{Code: 3}, 3},
		{"Usage", Usagef("missing FILE"), StatusUsage},
		{"WrappedUsage", fmt.Errorf("run: %w", Usagef("x")), StatusUsage},
		{"ScriptError", &Error{Kind: KindRuntime, Message: "x.lua:1: boom"}, StatusFailure},
		{"Other", errors.New("open x.lua: no such file or directory"), StatusFailure},
		{"Timeout", &Error{Kind: KindInterrupted, Err: context.Cause(timeout)}, StatusTimeout},
		{"SIGINT", &Error{Kind: KindInterrupted, Err: ErrInterrupted}, StatusInterrupt},
		{"SIGTERM", &Error{Kind: KindInterrupted, Err: ErrTerminated}, StatusTerminated},
		{"HardStopAfterSIGTERM", &Error{Kind: KindInterrupted, Err: ErrTerminated, HardStop: true}, StatusTerminated},
		{"Cancelled", &Error{Kind: KindInterrupted, Err: context.Canceled}, StatusInterrupt},
	} {
		if got := ExitStatus(tc.err); got != tc.want {
			t.Errorf("%s: ExitStatus(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
	if got := context.Cause(timeout).Error(); got != "timed out after 1ns (--timeout)" {
		t.Errorf("timeout cause %q", got)
	}
}

// TestSignalContext sends this process one SIGTERM, which the context
// catches: a second would end the test binary, as it should end wps.
func TestSignalContext(t *testing.T) {
	ctx, stop := SignalContext(context.Background())
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
	if cause := context.Cause(ctx); !errors.Is(cause, ErrTerminated) {
		t.Errorf("cause %v, want ErrTerminated", cause)
	}
}

func TestResolveTarget(t *testing.T) {
	const key = "c2VjcmV0LWtleS1vZi1yZXNvbHZlLXRhcmdldC10ZXN0Cg=="
	cs := func(host string) string { return "Endpoint=https://" + host + ";AccessKey=" + key + ";Version=1.0;" }
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	}
	for _, tc := range []struct {
		name       string
		flagCS     string
		flagHub    string
		vars       map[string]string
		want       string // Target.String
		wantErr    string // the error's start
		errCS      bool   // the error is about the connection string
		fromFlag   bool
		isEmbedded bool
	}{
		{name: "Embedded", want: "hub@embedded", isEmbedded: true},
		{name: "EmbeddedHub", flagHub: "chat", want: "chat@embedded", isEmbedded: true},
		{name: "Environment", vars: map[string]string{"WEBPUBSUB_CONNECTION_STRING": cs("env.webpubsub.azure.com"), "WEBPUBSUB_HUB": "envhub"}, want: "envhub@env.webpubsub.azure.com"},
		{name: "FlagsWin", flagCS: cs("flag.webpubsub.azure.com"), flagHub: "flaghub",
			vars: map[string]string{"WEBPUBSUB_CONNECTION_STRING": cs("env.webpubsub.azure.com"), "WEBPUBSUB_HUB": "envhub"}, want: "flaghub@flag.webpubsub.azure.com"},
		{name: "BadFlag", flagCS: "Endpoint=ftp://x;AccessKey=" + key, wantErr: "--connection-string: ", fromFlag: true},
		{name: "BadEnvironment", vars: map[string]string{"WEBPUBSUB_CONNECTION_STRING": "AccessKey=" + key}, wantErr: "$WEBPUBSUB_CONNECTION_STRING: "},
		{name: "BadHubFlag", flagHub: "9lives", wantErr: "--hub: ", fromFlag: true},
		{name: "BadHubEnvironment", vars: map[string]string{"WEBPUBSUB_HUB": "no spaces"}, wantErr: "$WEBPUBSUB_HUB: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target, err := ResolveTarget(tc.flagCS, tc.flagHub, env(tc.vars))
			if tc.wantErr != "" {
				var te *TargetError
				if !errors.As(err, &te) || !strings.HasPrefix(err.Error(), tc.wantErr) || te.FromFlag != tc.fromFlag {
					t.Fatalf("error %v, want a *TargetError starting %q with FromFlag %v", err, tc.wantErr, tc.fromFlag)
				}
				if strings.Contains(err.Error(), key) {
					t.Errorf("the error shows the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if target.String() != tc.want || target.Embedded() != tc.isEmbedded {
				t.Errorf("target %s (embedded %v), want %s", target, target.Embedded(), tc.want)
			}
			var logged strings.Builder
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("target", "target", target)
			for _, shown := range []string{fmt.Sprint(target), fmt.Sprintf("%#v", target), fmt.Sprintf("%+v", target), logged.String()} {
				if strings.Contains(shown, key) {
					t.Errorf("the target shows the key: %s", shown)
				}
			}
		})
	}
}
