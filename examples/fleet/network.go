package main

import (
	"context"
	"net"
	"sync"
)

// DialFunc opens a connection to one dependency, giving up when ctx is
// done.
type DialFunc func(ctx context.Context) (net.Conn, error)

// Network makes the listener of one dependency and the DialFunc that
// reaches it.
type Network func() (net.Listener, DialFunc, error)

// TCP is the Network of a run in real time: a listener on a free loopback
// port, reached with a net.Dialer.
func TCP() (net.Listener, DialFunc, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	addr := l.Addr().String()
	return l, func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}, nil
}

// Pipes is the Network of a run inside a testing/synctest bubble: it
// connects in memory with net.Pipe, whose every wait is on a channel or a
// timer. A goroutine waiting on a TCP socket is not durably blocked, so the
// bubble's clock could not advance past it; with pipes it does, and the run
// takes the model's time exactly, however busy the machine is.
//
// A dial completes when the listener accepts it, or fails when the
// listener is closed or ctx is done.
func Pipes() (net.Listener, DialFunc, error) {
	l := &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	return l, l.dial, nil
}

type pipeListener struct {
	conns  chan net.Conn // server ends, handed from dial to Accept
	closed chan struct{}
	once   sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		closeBoth(client, server)
		return nil, &net.OpError{Op: "dial", Net: "pipe", Addr: pipeAddr{}, Err: net.ErrClosed}
	case <-ctx.Done():
		closeBoth(client, server)
		return nil, ctx.Err()
	}
}

func closeBoth(a, b net.Conn) {
	_ = a.Close()
	_ = b.Close()
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
