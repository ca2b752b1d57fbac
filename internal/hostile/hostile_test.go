package hostile_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/internal/hostile"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// exchange sends a GET to a server with behaviour b and returns what came
// back within d (the deadline bounds the test; what is read decides it).
func exchange(t *testing.T, b hostile.Behavior, d time.Duration) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", hostile.Listen(t, b))
	if err != nil {
		return "", err // a reset can come before connect returns
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(d))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return "", err
	}
	var got strings.Builder
	_, err = io.CopyN(&got, c, 64<<10)
	return got.String(), err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestBehaviors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		b       hostile.Behavior
		prefix  string
		timeout bool // the exchange is still open at the deadline
	}{
		{hostile.SwitchProtocols, "HTTP/1.1 101 Switching Protocols\r\n", true},
		{hostile.EndlessInformational, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints", true},
		{hostile.StalledHeaders, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", true},
		{hostile.StalledBody, "HTTP/1.1 200 OK\r\n", true},
		{hostile.SlowDrip, "H", true},
		{hostile.NoResponse, "", true},
		{hostile.AcceptNeverRead, "", true},
		{hostile.EndlessBody, "HTTP/1.1 200 OK\r\n", false}, // 64 KiB arrive
		{hostile.EndlessHeaders, "HTTP/1.1 200 OK\r\nX-Hostile", false},
		{hostile.Garbage, "SSH-2.0-hostile", false},
		{hostile.CloseMidBody, "HTTP/1.1 200 OK\r\n", false}, // EOF
	} {
		t.Run(tc.b.String(), func(t *testing.T) {
			t.Parallel()
			got, err := exchange(t, tc.b, 700*time.Millisecond)
			if !strings.HasPrefix(got, tc.prefix) {
				t.Errorf("got %q, want it to start with %q", got, tc.prefix)
			}
			if isTimeout(err) != tc.timeout {
				t.Errorf("err = %v, want a timeout: %v", err, tc.timeout)
			}
		})
	}
	for _, b := range []hostile.Behavior{hostile.ResetOnAccept, hostile.ResetMidHeaders, hostile.ResetMidBody} {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			_, err := exchange(t, b, 5*time.Second)
			if err == nil || isTimeout(err) || errors.Is(err, io.EOF) {
				t.Errorf("err = %v, want a reset", err)
			}
		})
	}
}

func TestTLSHandshakeStall(t *testing.T) {
	t.Parallel()
	c, err := net.Dial("tcp", hostile.Listen(t, hostile.TLSHandshakeStall))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	// A record header and a 4-byte body stand in for a ClientHello.
	if _, err := c.Write([]byte{22, 3, 1, 0, 4, 1, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(c).ReadByte(); !isTimeout(err) {
		t.Fatalf("got %v, want silence", err)
	}
}

func TestResolver(t *testing.T) {
	t.Parallel()
	for _, b := range hostile.DNSBehaviors {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		_, err := hostile.Resolver(t, b).LookupHost(ctx, "svc.probekit.test.")
		cancel()
		if err == nil {
			t.Errorf("%v: the lookup succeeded", b)
		}
	}
}

func TestListenFull(t *testing.T) {
	t.Parallel()
	addr := hostile.ListenFull(t)
	_, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if !isTimeout(err) {
		t.Fatalf("got %v, want a connect that times out", err)
	}
}
