package privdb_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/probekit/probekit/examples/internal/privdb"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(privdb.WithCleanup(m)) }

// redisCmd sends one inline command on a fresh connection and returns the
// first line of the answer.
func redisCmd(addr, cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, cmd+"\r\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func TestRedisKillRestart(t *testing.T) {
	r := privdb.StartRedis(t)
	if got, err := redisCmd(r.Addr(), "SET k v"); err != nil || got != "+OK" {
		t.Fatalf("SET = %q, %v", got, err)
	}
	r.Kill()
	if _, err := redisCmd(r.Addr(), "PING"); err == nil {
		t.Fatal("PING after Kill succeeded")
	}
	r.Kill() // idempotent
	r.Restart()
	if got, err := redisCmd(r.Addr(), "EXISTS k"); err != nil || got != ":0" {
		t.Errorf("EXISTS k after Restart = %q, %v; want :0 from an empty server", got, err)
	}
}

func TestPostgresStopStart(t *testing.T) {
	p := privdb.StartPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	query := func() error {
		c, err := pgconn.Connect(ctx, p.DSN())
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, "CREATE TABLE IF NOT EXISTS t (x int); INSERT INTO t VALUES (1)").ReadAll()
		return err
	}
	if err := query(); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	if err := query(); err == nil {
		t.Fatal("query after Stop succeeded")
	}
	p.Stop() // idempotent
	p.Start()
	if err := query(); err != nil {
		t.Errorf("query after Start: %v", err)
	}
}

// echo starts a server that echoes each line back, for the proxy to front.
func echo(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return l.Addr().String()
}

func roundTrip(c net.Conn, msg string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := io.WriteString(c, msg+"\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func TestProxyModes(t *testing.T) {
	p := privdb.NewProxy(t, echo(t))
	var accepts, writes atomic.Int64
	p.Watch(func(a privdb.Activity) {
		if a.Accept {
			accepts.Add(1)
		} else {
			writes.Add(1)
		}
	})

	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := roundTrip(c, "hello"); err != nil || got != "hello" {
		t.Fatalf("forward: %q, %v", got, err)
	}

	p.Set(privdb.Blackhole)
	if got, err := roundTrip(c, "lost"); err == nil {
		t.Errorf("blackhole relayed %q on an open connection", got)
	}
	b, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, err := roundTrip(b, "lost"); err == nil {
		t.Errorf("blackhole answered %q on a new connection", got)
	}

	p.Set(privdb.Cut)
	cut, err := net.Dial("tcp", p.Addr())
	if err == nil {
		if got, err := roundTrip(cut, "x"); err == nil {
			t.Errorf("cut answered %q", got)
		}
		cut.Close()
	}

	p.Set(privdb.Forward)
	f, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := roundTrip(f, "again"); err != nil || got != "again" {
		t.Errorf("forward after cut: %q, %v", got, err)
	}

	if n := accepts.Load(); n != 4 || n != p.Accepted() {
		t.Errorf("watched %d accepts, counted %d; want 4 (forward, blackhole, cut, forward)", n, p.Accepted())
	}
	// hello, lost, lost, again; the cut connection's write may or may not
	// be read before the proxy closes it.
	if writes.Load() < 4 || p.Bytes() < int64(len("hello\nlost\nlost\nagain\n")) {
		t.Errorf("watched %d writes, counted %d bytes; want at least 4 and 23", writes.Load(), p.Bytes())
	}
}
