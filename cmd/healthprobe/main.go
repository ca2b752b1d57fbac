// Command healthprobe probes an endpoint once, the way the kubelet does,
// and reports the verdict in its exit status: 0 if the probe passes, 1 if it
// fails, 2 if the arguments are wrong. It is meant for images without curl
// (distroless, scratch): as a Docker HEALTHCHECK or a Kubernetes exec probe.
//
// Usage:
//
//	healthprobe [flags] [http] URL
//	healthprobe [flags] tcp HOST:PORT
//	healthprobe [flags] exec [--] COMMAND [ARG...]
//
// An HTTP probe passes on a status from 200 to 399, follows redirects only
// to the same host, and reads at most 10 KiB of the body. Unlike the
// kubelet, and like curl, it verifies HTTPS certificates unless -insecure is
// given. On failure it prints one line on stderr saying why; a passing
// redirect prints a warning line there too.
//
// Every argument is checked before anything is probed: one that could
// never be sent, dialled or started as given (a header value with a
// control character, an invalid header name or Host, a URL or tcp port
// outside 1-65535, a NUL byte in an exec argument...) exits 2, with the
// error on the first line of stderr and no connection made.
//
// healthprobe exits within its -timeout (1 s by default; it must be more
// than 0 and at most 1 h) plus a moment to clean up, whatever the target
// does: each probe honours the timeout, and a watchdog ends the run shortly
// after it in case one did not. See docs/healthprobe.md.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/probekit/probekit/probe"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses. Docker reserves 2 for itself, but a HEALTHCHECK that exits
// 2 has a broken command line, which deserves to be noticed anyway.
const (
	exitPass  = 0
	exitFail  = 1
	exitUsage = 2
)

// maxTimeout bounds -timeout: a health check that may take more than an
// hour is a typo (-timeout 2000h for 2000ms), better reported at once than
// discovered when a probe hangs for months.
const maxTimeout = time.Hour

// watchdogGrace is how long after its timeout a probe may take to return
// before run gives up on it. Every probe honours its timeout; the watchdog
// keeps the promise to exit in time even if one did not.
const watchdogGrace = 500 * time.Millisecond

const usageText = `usage: healthprobe [flags] [http] URL
       healthprobe [flags] tcp HOST:PORT
       healthprobe [flags] exec [--] COMMAND [ARG...]

Probes once, as the kubelet does, and exits 0 if the probe passes (HTTP
200-399, TCP connect, exit status 0), 1 if it fails, 2 on bad arguments.

flags:
`

// run is main without the process: it parses args (without the program
// name), probes once, writes at most one line to stdout or stderr, and
// returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthprobe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	timeout := fs.Duration("timeout", probe.DefaultTimeout, "give up and fail after this long (more than 0, at most 1h)")
	var headers headerFlags
	fs.Var(&headers, "header", "add the HTTP request header `'Name: value'` (repeatable; Host sets the host)")
	insecure := fs.Bool("insecure", false, "do not verify the HTTPS certificate, as the kubelet does")
	cacert := fs.String("cacert", "", "verify the HTTPS certificate against the PEM CA certificates in `file`")
	verbose := fs.Bool("v", false, "also print a line on stdout when the probe passes")

	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "healthprobe: "+format+"\n", a...)
		fs.Usage()
		return exitUsage
	}

	rest, err := parse(fs, args, true)
	if errors.Is(err, flag.ErrHelp) {
		return exitUsage // only a passing probe exits 0, so that "-h" in a HEALTHCHECK cannot pass
	}
	if err != nil {
		return exitUsage // flag has printed the error and the usage
	}
	if len(rest) == 0 {
		return usage("missing URL, tcp or exec")
	}

	// Flags may also follow the subcommand and, except for exec (whose
	// command has flags of its own), the target.
	mode := rest[0]
	switch mode {
	case "tcp", "http":
		rest, err = parse(fs, rest[1:], false)
	case "exec":
		rest, err = parse(fs, rest[1:], true)
	default:
		mode = "http"
		var more []string
		more, err = parse(fs, rest[1:], false)
		rest = append(rest[:1], more...)
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitUsage // only a passing probe exits 0, so that "-h" in a HEALTHCHECK cannot pass
	}
	if err != nil {
		return exitUsage
	}

	if *timeout <= 0 || *timeout > maxTimeout {
		return usage("-timeout %v: want more than 0 and at most %v", *timeout, maxTimeout)
	}
	if headers.err != nil {
		return usage("-header: %v", headers.err)
	}

	var action probe.Action
	switch mode {
	case "exec":
		if err := checkExec(rest); err != nil {
			return usage("%v", err)
		}
		action = probe.Exec{Command: rest}
	case "tcp":
		if len(rest) != 1 {
			return usage("tcp: want one HOST:PORT, got %d arguments", len(rest))
		}
		if err := checkTCP(rest[0]); err != nil {
			return usage("%v", err)
		}
		action = probe.TCPSocket{Addr: rest[0]}
	case "http":
		if len(rest) != 1 {
			return usage("want one URL, got %d arguments", len(rest))
		}
		if err := checkHTTP(rest[0], headers.h); err != nil {
			return usage("%v", err)
		}
		h := probe.HTTPGet{URL: rest[0], Header: headers.h}
		if *insecure && *cacert != "" {
			return usage("-insecure and -cacert exclude each other")
		}
		switch {
		case *insecure:
			h.TLSConfig = nil // the kubelet's behaviour
		case *cacert != "":
			pool, err := loadCA(*cacert)
			if err != nil {
				return usage("-cacert: %v", err)
			}
			h.TLSConfig = &tls.Config{RootCAs: pool}
		default:
			h.TLSConfig = &tls.Config{} // the system's roots
		}
		action = h
	}
	if mode != "http" && (len(headers.h) > 0 || *insecure || *cacert != "") {
		return usage("-header, -insecure and -cacert apply to HTTP probes only")
	}

	out, err := probeWithin(action, *timeout)
	if errors.Is(err, probe.ErrInvalid) {
		return usage("%v", err)
	}
	line := oneLine(out.String())
	switch {
	case err == nil && out.Result == probe.Success:
		if *verbose {
			fmt.Fprintln(stdout, line)
		}
		return exitPass
	case err == nil && out.Result == probe.Warning:
		fmt.Fprintln(stderr, "healthprobe:", line)
		return exitPass
	}
	fmt.Fprintln(stderr, "healthprobe:", line)
	return exitFail
}

// probeWithin runs action once and returns its result, or a Failure once
// timeout and watchdogGrace have passed without one. The probe's goroutine
// is then abandoned, which is harmless in a process about to exit.
func probeWithin(action probe.Action, timeout time.Duration) (probe.Outcome, error) {
	type result struct {
		out probe.Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := action.Probe(context.Background(), timeout)
		done <- result{out, err}
	}()
	watchdog := time.NewTimer(timeout + watchdogGrace)
	defer watchdog.Stop()
	select {
	case r := <-done:
		return r.out, r.err
	case <-watchdog.C:
		return probe.Outcome{Result: probe.Failure, Message: fmt.Sprintf("no verdict %v after the timeout of %v; gave up", watchdogGrace, timeout)}, nil
	}
}

// parse parses flags in args and returns the remaining arguments. It stops
// at the first argument that is not a flag if stopAtFirst is set; otherwise
// flags may also follow positional arguments, as users of curl expect
// ("healthprobe URL -timeout 3s"). "--" ends the flags in both cases.
func parse(fs *flag.FlagSet, args []string, stopAtFirst bool) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		ended := len(left) < len(args) && args[len(args)-len(left)-1] == "--"
		if stopAtFirst || ended || len(left) == 0 {
			return append(pos, left...), nil
		}
		pos = append(pos, left[0])
		args = left[1:]
	}
}

// headerFlags collects repeated -header flags.
type headerFlags struct {
	h http.Header
	// err is the first malformed -header (see parseHeader). Set keeps it
	// for run to report rather than returning it, because package flag
	// would print the whole argument, and a header's value is often a
	// credential.
	err error
}

func (f *headerFlags) String() string { return "" }

// Set adds one 'Name: value' (see parseHeader), or records why it cannot.
func (f *headerFlags) Set(s string) error {
	name, value, err := parseHeader(s)
	if err != nil {
		if f.err == nil {
			f.err = err
		}
		return nil
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(name, value)
	return nil
}

func loadCA(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificate in %s", file)
	}
	return pool, nil
}

// oneLine keeps the promise of a single line whatever a message holds.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
