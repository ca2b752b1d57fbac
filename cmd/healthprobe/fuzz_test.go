package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/probekit/probekit/internal/httpprobe"
	"github.com/probekit/probekit/probe"
)

// fuzzFlagsWithValue are the flags that take a value: the token after one
// of them is its value, whatever it looks like.
var fuzzFlagsWithValue = map[string]bool{
	"-timeout": true, "--timeout": true, "-header": true, "--header": true,
	"-cacert": true, "--cacert": true,
}

// fuzzArgs turns fuzzed text into arguments that can only ever reach
// 127.0.0.1. Tokens are separated by newlines; every token that is not the
// value of a flag is forced to start with "-", so that no fuzzed token can
// become a subcommand, a URL or a command to execute. The fixed target
// (one of a refusing port, a loopback server, or none) comes last.
func fuzzArgs(text string, target []string) []string {
	var args []string
	wantValue := false
	for tok := range strings.SplitSeq(text, "\n") {
		if len(args) >= 16 {
			break
		}
		if !wantValue && !strings.HasPrefix(tok, "-") {
			tok = "-" + tok
		}
		name, _, hasValue := strings.Cut(tok, "=")
		if cacert := strings.TrimLeft(name, "-") == "cacert"; cacert && hasValue {
			tok = name + "=/nonexistent/ca.pem" // never /dev/zero or /dev/stdin
		} else if wantValue && strings.TrimLeft(args[len(args)-1], "-") == "cacert" {
			tok = "/nonexistent/ca.pem"
		}
		wantValue = !wantValue && !hasValue && fuzzFlagsWithValue[name]
		args = append(args, tok)
	}
	if wantValue {
		args = append(args, "1s") // give a dangling value flag something
	}
	return append(args, target...)
}

// FuzzRun: whatever the flags, run never panics, exits 0, 1 or 2, writes at
// most one line on stdout, and never passes against a port that refuses.
// Every argument is checked before probing: a run that exits 2 made no
// connection, and a run that exits 1 failed on the target's answer, never
// because net/http, the dialer or exec refused an argument. It stays
// offline and fast: every target is on 127.0.0.1 and answers (or refuses)
// at once.
func FuzzRun(f *testing.F) {
	srv := newCountingServer(f, false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	targets := [][]string{
		{"http://" + refused + "/"},
		{"tcp", refused},
		{srv.url + "/"},
		{"http", srv.url + "/ready?x=1"},
		nil,
		{"tcp", srv.addr},
	}
	for _, seed := range []string{
		"", "-v", "-timeout\n2s", "-timeout\n0", "-timeout=-1s", "-timeout\n2000h", "-header\nA: b",
		"-header\nno colon", "-header\nX: a\r\nY: b", "-insecure\n-cacert\n/nonexistent", "-h", "--",
		"-timeout\n1s\n-header\nHost: svc\n-v", "-unknown", "-timeout=1ns",
		"-header\nX-Del: a\x7fb", "-header=X-C: \x01", "-header\nHost: bad host", "-header\nConnection: upgrade",
		"-header\nUpgrade: h2c", "-header\nHost: a\n-header\nHost: b", "-header\nAuthorization Bearer t0k",
	} {
		for i := range targets {
			f.Add(seed, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, text string, which uint8) {
		target := targets[int(which)%len(targets)]
		args := fuzzArgs(text, target)
		var stdout, stderr strings.Builder
		before := srv.conns.Load()
		code := run(args, &stdout, &stderr)
		conns := srv.conns.Load() - before
		if code != exitPass && code != exitFail && code != exitUsage {
			t.Fatalf("run(%q) = %d, want 0, 1 or 2", args, code)
		}
		if n := strings.Count(stdout.String(), "\n"); n > 1 {
			t.Fatalf("run(%q) wrote %d lines on stdout", args, n)
		}
		if len(target) > 0 && strings.Contains(strings.Join(target, " "), refused) && code == exitPass {
			t.Fatalf("run(%q) passed against a refusing port; stderr %q", args, stderr.String())
		}
		if code == exitUsage && conns != 0 {
			t.Fatalf("run(%q) exited 2 after %d connection(s); stderr %q", args, conns, stderr.String())
		}
		if code == exitFail {
			for _, refusal := range argumentRefusals {
				if strings.Contains(stderr.String(), refusal) {
					t.Fatalf("run(%q) exited 1 on a bad argument: %q", args, stderr.String())
				}
			}
		}
	})
}

// argumentRefusals are the words of net/http, the dialer and exec when they
// refuse an argument itself (not the target's answer).
var argumentRefusals = []string{"invalid header", "invalid Host", "invalid port", "unknown port", "invalid Connection",
	"invalid Upgrade", "invalid Transfer-Encoding", "invalid argument"}

// errNoDial is what sendsHeader's transport answers instead of dialling.
var errNoDial = errors.New("no dial")

// oracle is a real net/http transport that never dials: it validates a
// request's header fields first, so that reaching its dialer means net/http
// would send them.
var oracle = &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, errNoDial }}

// sendsHeader reports whether net/http sends a request with header
// name: value (as healthprobe adds it) rather than refusing it.
func sendsHeader(name, value string) bool {
	req, err := http.NewRequest(http.MethodGet, "http://probe.invalid/", nil)
	if err != nil {
		panic(err)
	}
	req.Header.Add(name, value)
	res, err := oracle.RoundTrip(req)
	if res != nil {
		res.Body.Close()
	}
	return errors.Is(err, errNoDial)
}

// FuzzHeaderFlag: a -header value is either refused or becomes exactly one
// valid header whose value has no line break; it is refused exactly when
// net/http would refuse to send it (so never for a value net/http sends,
// such as one with a tab or UTF-8 in it); and its error never quotes the
// value.
func FuzzHeaderFlag(f *testing.F) {
	for _, s := range []string{"A: b", "Host:svc.local", "Authorization: Bearer t0k", "no colon", ": v", "X A: b",
		"X-A: b\r\nX-B: c", "X-A:\x00", "User-Agent:", "Accept:  */*  ", "Ω: x", "X-Del: a\x7fb", "X-C: \x01",
		"X-T: a\tb", "X-U: café", "X-V: \xff\xfe", "X-W: a\vb", "X-E:\t", "X:Y:Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var h headerFlags
		if err := h.Set(s); err != nil {
			t.Fatalf("Set(%q) returned %v: malformed headers are kept for run to report", s, err)
		}
		if name, value, ok := strings.Cut(s, ":"); ok {
			value = strings.Trim(value, " \t")
			if sends := sendsHeader(name, value); sends != (h.err == nil) {
				t.Fatalf("Set(%q): error %v, but net/http sends it: %v", s, h.err, sends)
			}
		}
		if err := h.err; err != nil {
			// The error may quote the name, which may happen to hold the
			// value ("x000000000:000000000"): that is not the value.
			msg := err.Error()
			if name, _, ok := strings.Cut(s, ":"); ok {
				msg = strings.ReplaceAll(msg, strconv.Quote(name), `""`)
			}
			if v := strings.TrimSpace(s[strings.IndexByte(s, ':')+1:]); len(v) > 8 && strings.Contains(msg, v) {
				t.Fatalf("error %q quotes the header value", err)
			}
			return
		}
		if len(h.h) != 1 {
			t.Fatalf("Set(%q) made %d headers", s, len(h.h))
		}
		for name, vs := range h.h {
			if len(vs) != 1 {
				t.Fatalf("Set(%q) made %d values", s, len(vs))
			}
			if err := httpprobe.ValidHeader(name, vs[0]); err != nil {
				t.Fatalf("Set(%q) accepted an invalid header: %v", s, err)
			}
		}
	})
}

// stuckAction never returns until released, ignoring its timeout.
type stuckAction struct{ release chan struct{} }

func (s stuckAction) Probe(context.Context, time.Duration) (probe.Outcome, error) {
	<-s.release
	return probe.Outcome{Result: probe.Success}, nil
}

// TestWatchdog: a probe that does not honour its timeout still ends the run
// shortly after it, as a failure.
func TestWatchdog(t *testing.T) {
	a := stuckAction{release: make(chan struct{})}
	defer close(a.release)
	start := time.Now()
	out, err := probeWithin(a, 100*time.Millisecond)
	if err != nil || out.Result != probe.Failure || !strings.Contains(out.Message, "gave up") {
		t.Fatalf("got %v, %v; want a Failure that gave up", out, err)
	}
	if took := time.Since(start); took > 100*time.Millisecond+watchdogGrace+2*time.Second {
		t.Fatalf("took %v", took)
	}
}
