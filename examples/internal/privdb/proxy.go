package privdb

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Mode is how a Proxy treats traffic.
type Mode int32

const (
	// Forward relays bytes both ways between client and server.
	Forward Mode = iota
	// Cut closes every connection and accepts new ones only to close them
	// at once: the client sees a dependency that hangs up, quickly.
	Cut
	// Blackhole keeps every connection open but relays nothing, and
	// accepts new connections without ever answering: the client sees a
	// dependency that hangs until its own timeout.
	Blackhole
)

// String returns "forward", "cut" or "blackhole".
func (m Mode) String() string {
	switch m {
	case Forward:
		return "forward"
	case Cut:
		return "cut"
	case Blackhole:
		return "blackhole"
	}
	return "Mode(?)"
}

// Activity is what a client did through a Proxy: opened a connection
// (Accept) or sent bytes (Data).
type Activity struct {
	Conn   uint64 // the connection's number: 1 for the first one accepted
	Accept bool
	Data   []byte // what the client sent: a copy, nil for Accept
	Mode   Mode   // the proxy's mode when it happened
}

// Proxy is a loopback TCP proxy in front of a server. It counts every
// connection a client opens and every byte a client sends, whether it
// relays them or not, so that a test can tell whether a client called the
// server during an outage the proxy simulates. It is safe for concurrent
// use.
type Proxy struct {
	target string
	l      net.Listener
	mode   atomic.Int32
	watch  atomic.Pointer[func(Activity)]

	accepted, bytes atomic.Int64
	seq             atomic.Uint64

	mu    sync.Mutex
	conns map[net.Conn]struct{} // client and server sides
	wg    sync.WaitGroup
}

// NewProxy starts a proxy on a free loopback port that forwards to target
// (host:port). It is closed when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("privdb: proxy listen: %v", err)
	}
	p := &Proxy{target: target, l: l, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Addr returns the proxy's host:port, for the client to dial.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// Accepted returns how many connections clients have opened.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Bytes returns how many bytes clients have sent, relayed or not.
func (p *Proxy) Bytes() int64 { return p.bytes.Load() }

// Watch makes the proxy call fn for every accepted connection and every
// read from a client, before counting or relaying it (so that fn may look at
// what the client is doing at that moment). fn runs on the
// proxy's goroutines and must be quick and safe for concurrent use. A nil
// fn stops watching.
func (p *Proxy) Watch(fn func(Activity)) {
	if fn == nil {
		p.watch.Store(nil)
		return
	}
	p.watch.Store(&fn)
}

// Mode returns the current mode.
func (p *Proxy) Mode() Mode { return Mode(p.mode.Load()) }

// Set switches to mode m. Switching to Cut closes every connection at once.
// Switching from Blackhole to Forward closes the blackholed connections,
// since their byte streams lost data and cannot be resumed.
func (p *Proxy) Set(m Mode) {
	old := Mode(p.mode.Swap(int32(m)))
	if m == Cut || old == Blackhole && m != Blackhole {
		p.closeAll()
	}
}

func (p *Proxy) note(a Activity) {
	if fn := p.watch.Load(); fn != nil {
		if a.Data != nil {
			a.Data = bytes.Clone(a.Data)
		}
		(*fn)(a)
	}
	if a.Accept {
		p.accepted.Add(1)
	}
	p.bytes.Add(int64(len(a.Data)))
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return // closed
		}
		m := p.Mode()
		id := p.seq.Add(1)
		p.note(Activity{Conn: id, Accept: true, Mode: m})
		if m == Cut || !p.track(c) {
			_ = c.Close()
			continue
		}
		p.wg.Add(1)
		go p.handle(c, id, m)
	}
}

// track registers c so that Set and close can close it; it refuses once the
// proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	_ = c.Close()
}

func (p *Proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *Proxy) handle(client net.Conn, id uint64, m Mode) {
	defer p.wg.Done()
	defer p.untrack(client)
	var server net.Conn
	if m == Forward {
		var err error
		if server, err = net.Dial("tcp", p.target); err != nil || !p.track(server) {
			if server != nil {
				_ = server.Close()
			}
			return // the client sees its connection closed, as if refused late
		}
		defer p.untrack(server)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(client) // server hung up: so does the client side
			buf := make([]byte, 32<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && p.Mode() == Forward {
					if _, werr := client.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			mode := p.Mode()
			p.note(Activity{Conn: id, Data: buf[:n], Mode: mode})
			if mode == Cut { // accepted just before the cut
				return
			}
			if server != nil && mode == Forward {
				if _, werr := server.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return // EOF, or closed by Set or close
		}
	}
}

// close stops the proxy and waits for its goroutines.
func (p *Proxy) close() {
	_ = p.l.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}
