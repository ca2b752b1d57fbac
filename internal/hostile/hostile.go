// Package hostile starts loopback servers that misbehave on purpose, for
// tests that prove a client honours its deadline and gives the right
// verdict whatever the server does. Every server is real (a net.Listener on
// 127.0.0.1:0), serves any number of connections, and is stopped, with every
// connection it holds, when the test ends, so that goleak stays quiet.
//
// It is for tests only; it depends on nothing but the standard library and
// testing.
package hostile

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Behavior is one way for a TCP server to misbehave towards its clients.
type Behavior int

// The behaviours. Those that speak HTTP first read the request head, so
// that the client is past writing and waits for the answer.
const (
	// SwitchProtocols answers "101 Switching Protocols" with the Upgrade
	// headers and then holds the connection open, silent.
	SwitchProtocols Behavior = iota + 1
	// EndlessInformational sends 100 Continue and 103 Early Hints
	// responses, alternately, forever, and never a final status.
	EndlessInformational
	// StalledHeaders sends a status line and one header, never the blank
	// line that ends the head.
	StalledHeaders
	// EndlessHeaders sends header lines as fast as the client takes them,
	// never the blank line.
	EndlessHeaders
	// StalledBody sends a 200 head promising 1000 bytes, 10 of them, and
	// then nothing.
	StalledBody
	// EndlessBody sends a 200 chunked body as fast as the client takes it,
	// forever.
	EndlessBody
	// SlowDrip sends a 200 response one byte a second: the head alone
	// takes longer than any probe timeout.
	SlowDrip
	// NoResponse reads the request and never answers.
	NoResponse
	// AcceptNeverRead accepts the connection and never reads or writes.
	AcceptNeverRead
	// ResetOnAccept aborts every connection with a TCP reset at once.
	ResetOnAccept
	// ResetMidHeaders sends half a response head, then a reset.
	ResetMidHeaders
	// ResetMidBody sends a 200 head promising 1000 bytes, 10 of them, then
	// a reset.
	ResetMidBody
	// CloseMidBody is ResetMidBody with a normal close (FIN).
	CloseMidBody
	// TLSHandshakeStall reads the client's TLS ClientHello and never
	// answers it, so the handshake never finishes.
	TLSHandshakeStall
	// Garbage answers with bytes that are not HTTP, endlessly.
	Garbage
)

// HTTPBehaviors lists every behaviour, for tables of HTTP clients.
var HTTPBehaviors = []Behavior{
	SwitchProtocols, EndlessInformational, StalledHeaders, EndlessHeaders,
	StalledBody, EndlessBody, SlowDrip, NoResponse, AcceptNeverRead,
	ResetOnAccept, ResetMidHeaders, ResetMidBody, CloseMidBody,
	TLSHandshakeStall, Garbage,
}

var names = map[Behavior]string{
	SwitchProtocols:      "101 and held connection",
	EndlessInformational: "endless 1xx",
	StalledHeaders:       "headers never finished",
	EndlessHeaders:       "endless headers",
	StalledBody:          "body stalled after headers",
	EndlessBody:          "endless body",
	SlowDrip:             "slow drip",
	NoResponse:           "no response",
	AcceptNeverRead:      "accept and never read",
	ResetOnAccept:        "reset after accept",
	ResetMidHeaders:      "reset mid-headers",
	ResetMidBody:         "reset mid-body",
	CloseMidBody:         "close mid-body",
	TLSHandshakeStall:    "TLS handshake never completes",
	Garbage:              "not HTTP",
}

// String names the behaviour, for subtest names.
func (b Behavior) String() string {
	if n, ok := names[b]; ok {
		return n
	}
	return fmt.Sprintf("Behavior(%d)", int(b))
}

// Expect is what a kubelet-like HTTP prober must conclude about a
// behaviour, once its timeout has bounded the exchange.
type Expect struct {
	// Passes: the probe passes. Only EndlessBody does: 10 KiB is read
	// and the rest is no failure.
	Passes bool
	// StatusCode is the status the prober must report, or 0 when no
	// complete response head arrived.
	StatusCode int
	// BodyError: a response arrived but its body could not be read.
	BodyError bool
	// HTTPS: the behaviour is about TLS; probe it with an https URL.
	HTTPS bool
}

// HTTP returns what an HTTP prober must conclude about b.
func (b Behavior) HTTP() Expect {
	switch b {
	case SwitchProtocols:
		return Expect{StatusCode: 101}
	case EndlessBody:
		return Expect{Passes: true, StatusCode: 200}
	case StalledBody, ResetMidBody, CloseMidBody:
		return Expect{StatusCode: 200, BodyError: true}
	case TLSHandshakeStall:
		return Expect{HTTPS: true}
	}
	return Expect{}
}

// Listen starts a server with behaviour b on 127.0.0.1 and returns its
// address ("127.0.0.1:port"). The server stops when the test ends.
func Listen(t testing.TB, b Behavior) string {
	t.Helper()
	serve, ok := behaviors[b]
	if !ok {
		t.Fatalf("hostile: unknown behaviour %v", b)
	}
	return serveTCP(t, serve)
}

// URL is Listen's address as a URL with path /: https for a behaviour whose
// Expect says HTTPS, http otherwise.
func URL(t testing.TB, b Behavior) string {
	t.Helper()
	scheme := "http://"
	if b.HTTP().HTTPS {
		scheme = "https://"
	}
	return scheme + Listen(t, b) + "/"
}

// conn is what a behaviour works with: the connection, a reader of what
// the client sent, and done, closed when the test ends.
type conn struct {
	net.Conn
	r    *bufio.Reader
	done <-chan struct{}
}

// readHead reads an HTTP request head, or whatever the client sends up to
// a blank line.
func (c *conn) readHead() {
	for {
		line, err := c.r.ReadString('\n')
		if err != nil || line == "\r\n" || line == "\n" {
			return
		}
	}
}

// hold keeps the connection open, silent, until the test ends.
func (c *conn) hold() { <-c.done }

// write sends s, reporting whether the client is still there.
func (c *conn) write(s string) bool {
	_, err := io.WriteString(c.Conn, s)
	return err == nil
}

// pause waits d, reporting false if the test ended meanwhile.
func (c *conn) pause(d time.Duration) bool {
	select {
	case <-c.done:
		return false
	case <-time.After(d):
		return true
	}
}

// reset aborts the connection with a TCP RST instead of a FIN.
func (c *conn) reset() {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
}

const partialBody = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n0123456789"

var behaviors = map[Behavior]func(*conn){
	SwitchProtocols: func(c *conn) {
		c.readHead()
		if c.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: hostile/1\r\n\r\n") {
			c.hold()
		}
	},
	EndlessInformational: func(c *conn) {
		c.readHead()
		for i := 0; ; i++ {
			msg := "HTTP/1.1 100 Continue\r\n\r\n"
			if i%2 == 1 {
				msg = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
			}
			if !c.write(msg) || !c.pause(20*time.Millisecond) {
				return
			}
		}
	},
	StalledHeaders: func(c *conn) {
		c.readHead()
		if c.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n") {
			c.hold()
		}
	},
	EndlessHeaders: func(c *conn) {
		c.readHead()
		if !c.write("HTTP/1.1 200 OK\r\n") {
			return
		}
		line := "X-Hostile: " + strings.Repeat("h", 1000) + "\r\n"
		for c.write(line) {
		}
	},
	StalledBody: func(c *conn) {
		c.readHead()
		if c.write(partialBody) {
			c.hold()
		}
	},
	EndlessBody: func(c *conn) {
		c.readHead()
		if !c.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n") {
			return
		}
		chunk := fmt.Sprintf("%x\r\n%s\r\n", 4096, strings.Repeat("e", 4096))
		for c.write(chunk) {
		}
	},
	SlowDrip: func(c *conn) {
		c.readHead()
		for _, b := range []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") {
			if !c.write(string(b)) || !c.pause(time.Second) {
				return
			}
		}
		c.hold()
	},
	NoResponse: func(c *conn) {
		c.readHead()
		c.hold()
	},
	AcceptNeverRead: func(c *conn) { c.hold() },
	ResetOnAccept:   func(c *conn) { c.reset() },
	ResetMidHeaders: func(c *conn) {
		c.readHead()
		c.write("HTTP/1.1 200 OK\r\nContent-Ty")
		c.reset()
	},
	ResetMidBody: func(c *conn) {
		c.readHead()
		c.write(partialBody)
		c.reset()
	},
	CloseMidBody: func(c *conn) {
		c.readHead()
		c.write(partialBody)
	},
	TLSHandshakeStall: func(c *conn) {
		// A ClientHello is one handshake record: content type 22, then
		// the version and the record's length.
		var hdr [5]byte
		if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
			return
		}
		n := int(hdr[3])<<8 | int(hdr[4])
		if _, err := io.CopyN(io.Discard, c.r, int64(n)); err != nil {
			return
		}
		c.hold()
	},
	Garbage: func(c *conn) {
		c.readHead()
		junk := "SSH-2.0-hostile\r\n\x00\x01\x02\x03 " + strings.Repeat("\xff", 512) + "\r\n"
		for c.write(junk) {
		}
	},
}

// serveTCP runs serve on every connection to a new loopback listener until
// the test ends; then it closes the listener and every connection, and
// waits for every goroutine it started.
func serveTCP(t testing.TB, serve func(*conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("hostile: %v", err)
	}
	done := make(chan struct{})
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed at the end of the test
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				serve(&conn{Conn: c, r: bufio.NewReader(c), done: done})
			})
		}
	})
	t.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close() // unblocks writers stuck on a full socket buffer
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}
