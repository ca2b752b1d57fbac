// Package wrk runs the wrk HTTP load generator (Debian package "wrk") as a
// separate process and parses what it prints.
package wrk

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is returned by Look when wrk is not in PATH.
var ErrNotFound = errors.New("wrk not found in PATH (Debian: apt-get install wrk)")

// Look returns the path of the wrk binary, or an error wrapping ErrNotFound.
func Look() (string, error) {
	path, err := exec.LookPath("wrk")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return path, nil
}

// Config is one wrk run's load: Threads threads keeping Connections
// connections busy for Duration, each request given up on after Timeout.
type Config struct {
	Threads     int
	Connections int
	Duration    time.Duration // whole seconds, at least 1 s (wrk's resolution)
	Timeout     time.Duration // whole seconds, at least 1 s
}

func (c Config) validate() error {
	switch {
	case c.Threads < 1 || c.Connections < c.Threads:
		return fmt.Errorf("wrk: need 1 ≤ threads ≤ connections, got %d threads, %d connections", c.Threads, c.Connections)
	case c.Duration < time.Second || c.Duration%time.Second != 0:
		return fmt.Errorf("wrk: duration must be whole seconds, at least 1s, got %v", c.Duration)
	case c.Timeout < time.Second || c.Timeout%time.Second != 0:
		return fmt.Errorf("wrk: timeout must be whole seconds, at least 1s, got %v", c.Timeout)
	}
	return nil
}

// Args returns wrk's command-line arguments for a run against url.
func (c Config) Args(url string) []string {
	return []string{
		"-t" + strconv.Itoa(c.Threads),
		"-c" + strconv.Itoa(c.Connections),
		"-d" + strconv.Itoa(int(c.Duration/time.Second)) + "s",
		"--timeout", strconv.Itoa(int(c.Timeout/time.Second)) + "s",
		"--latency",
		url,
	}
}

// Run runs the wrk at path against url and returns its parsed result. A
// run that saw any non-2xx/3xx response or socket error is an error (the
// figure would describe a broken server), as is a run still going 10 s past
// its duration, which is then killed.
func Run(ctx context.Context, path string, c Config, url string) (Result, error) {
	if err := c.validate(); err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Duration+c.Timeout+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, c.Args(url)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return Result{}, fmt.Errorf("wrk %s: %w: %s", strings.Join(c.Args(url), " "), err, bytes.TrimSpace(out.Bytes()))
	}
	res, err := Parse(out.Bytes())
	if err != nil {
		return Result{}, err
	}
	return res, res.Err()
}

// Result is what one wrk run reports.
type Result struct {
	Requests       int64         // completed requests
	Elapsed        time.Duration // wall time of the run as wrk measured it
	RequestsPerSec float64
	P50, P99       time.Duration // latency percentiles
	Non2xx         int64         // responses with a status outside 2xx/3xx
	SocketErrors   SocketErrors
}

// SocketErrors are wrk's counts of failed connects, reads, writes and
// requests that timed out.
type SocketErrors struct{ Connect, Read, Write, Timeout int64 }

func (s SocketErrors) total() int64 { return s.Connect + s.Read + s.Write + s.Timeout }

// Err describes what went wrong in the run, or returns nil if every
// request got a 2xx/3xx response.
func (r Result) Err() error {
	var problems []string
	if r.Non2xx > 0 {
		problems = append(problems, fmt.Sprintf("%d non-2xx/3xx responses", r.Non2xx))
	}
	if s := r.SocketErrors; s.total() > 0 {
		problems = append(problems, fmt.Sprintf("socket errors: connect %d, read %d, write %d, timeout %d", s.Connect, s.Read, s.Write, s.Timeout))
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("wrk: %d requests, %s", r.Requests, strings.Join(problems, "; "))
}

var (
	reRequests   = regexp.MustCompile(`^(\d+) requests in ([0-9.]+\w+), `)
	reRate       = regexp.MustCompile(`^Requests/sec:\s+([0-9.]+)$`)
	rePercentile = regexp.MustCompile(`^(50|99)%\s+([0-9.]+\w+)$`)
	reNon2xx     = regexp.MustCompile(`^Non-2xx or 3xx responses: (\d+)$`)
	reSocket     = regexp.MustCompile(`^Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)$`)
)

// Parse reads the output of `wrk --latency`. It returns an error naming
// the missing line when the output lacks the request count, the rate or
// the 50th and 99th latency percentiles (as when wrk could not connect).
func Parse(out []byte) (Result, error) {
	var (
		r    Result
		seen = map[string]bool{}
		err  error
	)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() && err == nil {
		line := strings.TrimSpace(sc.Text())
		if m := reRequests.FindStringSubmatch(line); m != nil {
			seen["requests"] = true
			r.Requests, err = strconv.ParseInt(m[1], 10, 64)
			if err == nil {
				r.Elapsed, err = time.ParseDuration(m[2])
			}
		} else if m := reRate.FindStringSubmatch(line); m != nil {
			seen["rate"] = true
			r.RequestsPerSec, err = strconv.ParseFloat(m[1], 64)
		} else if m := rePercentile.FindStringSubmatch(line); m != nil {
			seen[m[1]] = true
			d, perr := time.ParseDuration(m[2])
			if m[1] == "50" {
				r.P50 = d
			} else {
				r.P99 = d
			}
			err = perr
		} else if m := reNon2xx.FindStringSubmatch(line); m != nil {
			r.Non2xx, err = strconv.ParseInt(m[1], 10, 64)
		} else if m := reSocket.FindStringSubmatch(line); m != nil {
			s := &r.SocketErrors
			for i, p := range []*int64{&s.Connect, &s.Read, &s.Write, &s.Timeout} {
				if *p, err = strconv.ParseInt(m[i+1], 10, 64); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		return Result{}, fmt.Errorf("wrk: parsing its output: %w", err)
	}
	for _, want := range []struct{ key, line string }{
		{"requests", `"N requests in T, …"`},
		{"rate", `"Requests/sec: R"`},
		{"50", `the 50% latency (run wrk with --latency)`},
		{"99", `the 99% latency (run wrk with --latency)`},
	} {
		if !seen[want.key] {
			return Result{}, fmt.Errorf("wrk: output has no %s line: %.300q", want.line, out)
		}
	}
	return r, nil
}

// Version returns the first line of `wrk -v` at path ("wrk debian/4.1.0-3+b2
// [epoll] …"), or "unknown" if it prints nothing. wrk exits non-zero after
// printing its version, so the exit status is ignored.
func Version(ctx context.Context, path string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, path, "-v").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	line = strings.TrimSpace(strings.Split(line, " Copyright")[0])
	if line == "" {
		return "unknown"
	}
	return line
}
