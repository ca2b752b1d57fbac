// Package redis stands in for github.com/redis/go-redis/v9 in the tests of
// docs/checks.md, so that its go-redis snippet compiles, verbatim, in a
// module that must not depend on go-redis. It has the shape of the few
// identifiers the snippet uses, and its Ping really sends PING to the
// server (RESP over TCP). Like go-redis, it honours the deadline of the
// context only when ContextTimeoutEnabled is set.
package redis

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"
)

// Options are the client's settings (a subset of go-redis's).
type Options struct {
	// Addr is the server's host:port.
	Addr string
	// ContextTimeoutEnabled makes commands honour their context's deadline;
	// otherwise, as in go-redis, only ReadTimeout bounds them.
	ContextTimeoutEnabled bool
}

// readTimeout is go-redis's default ReadTimeout.
const readTimeout = 3 * time.Second

// Client sends commands to one server, a connection per command.
type Client struct{ opt Options }

// NewClient returns a client for opt.
func NewClient(opt *Options) *Client { return &Client{opt: *opt} }

// StatusCmd is the result of a command with a status reply.
type StatusCmd struct{ err error }

// Err returns the command's error, or nil if the server answered +PONG.
func (c *StatusCmd) Err() error { return c.err }

// Ping sends PING and waits for +PONG.
func (c *Client) Ping(ctx context.Context) *StatusCmd {
	if !c.opt.ContextTimeoutEnabled {
		ctx = context.WithoutCancel(ctx)
	}
	deadline := time.Now().Add(readTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.opt.Addr)
	if err != nil {
		return &StatusCmd{err: err}
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return &StatusCmd{err: err}
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	switch {
	case err != nil:
		return &StatusCmd{err: err}
	case line != "+PONG\r\n":
		return &StatusCmd{err: fmt.Errorf("redis: unexpected reply %q", line)}
	}
	return &StatusCmd{}
}
