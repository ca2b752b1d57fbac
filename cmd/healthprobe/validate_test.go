package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingServer is a loopback server answering 200 that counts the
// connections it accepts, HTTP or bare TCP alike.
type countingServer struct {
	url   string // http://127.0.0.1:port or https://...
	addr  string // 127.0.0.1:port
	conns atomic.Int32
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// newCountingServer starts a counting server; with tls, it serves HTTPS
// and offers HTTP/2, as most HTTPS servers do.
func newCountingServer(t testing.TB, tls bool) *countingServer {
	t.Helper()
	s := &countingServer{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Listener = countingListener{srv.Listener, &s.conns}
	if tls {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	s.url, s.addr = srv.URL, srv.Listener.Addr().String()
	return s
}

// TestRunRefusesBadArguments: every argument that net/http, the dialer or
// exec would refuse on every attempt exits 2 before anything is probed,
// with the reason on the first line of stderr (never quoting a header's
// value), and no connection reaches the target. On v0.15.0 each of these
// exited 1 (a failed probe) or, worse, 0 (net/http silently sent no Host
// over HTTP/1.1), and the HTTPS ones connected first.
func TestRunRefusesBadArguments(t *testing.T) {
	t.Parallel()
	plain, tls := newCountingServer(t, false), newCountingServer(t, true)
	host, port, err := net.SplitHostPort(plain.addr)
	require.NoError(t, err)
	u, su := plain.url+"/", tls.url+"/"
	const secret = "s3cr3t-t0ken"

	tests := []struct {
		name string
		args []string
		want string // in the first line of stderr
	}{
		{"header value with DEL", []string{"-header", "X-Del: a\x7fb", u}, `header "X-Del" holds a control character`},
		{"header value with DEL over https", []string{"-insecure", "-header", "X-Del: a\x7fb", su}, "control character"},
		{"header value with \\x01", []string{"-header", "X-C: a\x01b", u}, "control character"},
		{"header value with ESC", []string{"-header", "X-C: \x1b[0m", u}, "control character"},
		{"header value with \\v", []string{"-header", "X-C: a\vb", u}, "control character"},
		{"header value with LF", []string{"-header", "X-C: a\nb", u}, "line break"},
		{"header value with CR", []string{"-header", "X-C: a\rb", u}, "line break"},
		{"header value with NUL", []string{"-header", "X-C: a\x00b", u}, "NUL"},
		{"credential with DEL", []string{"-header", "Authorization: Bearer " + secret + "\x7f", u}, "control character"},
		{"credential without colon", []string{"-header", "Authorization Bearer " + secret, u}, "no colon"},
		{"credential with name spaced", []string{"-header", "Author ization: " + secret, u}, "invalid header name"},
		{"credential missing its colon", []string{"-header", "Authorization Bearer " + secret + ":x", u}, "is the colon after the name missing?"},
		{"header without colon", []string{"-header", "no colon", u}, "no colon"},
		{"header without name", []string{"-header", ": v", u}, "empty header name"},
		{"header name with space", []string{"-header", "X A: b", u}, "invalid header name: it holds a blank"},
		{"header name with a slash", []string{"-header", "X/A: b", u}, `invalid header name "X/A"`},
		{"header name non-ASCII", []string{"-header", "Ω: b", u}, "invalid header name"},
		{"bad header after the URL", []string{u, "-header", "X-Del: \x7f"}, "control character"},
		{"Host with a space", []string{"-header", "Host: bad host", u}, "-header Host: not a valid host"},
		{"Host with a space over https", []string{"-insecure", "-header", "Host: bad host", su}, "-header Host: not a valid host"},
		{"Host with a slash", []string{"-header", "Host: a/b", u}, "-header Host"},
		{"Host given twice", []string{"-header", "Host: a", "-header", "Host: b", u}, "given 2 times"},
		{"Connection: upgrade", []string{"-header", "Connection: upgrade", u}, "-header Connection"},
		{"Connection: upgrade over https", []string{"-insecure", "-header", "Connection: upgrade", su}, "-header Connection"},
		{"Connection twice", []string{"-header", "Connection: close", "-header", "Connection: close", u}, "given 2 times"},
		{"Upgrade", []string{"-header", "Upgrade: websocket", u}, "-header Upgrade"},
		{"Transfer-Encoding", []string{"-header", "Transfer-Encoding: gzip", u}, "-header Transfer-Encoding"},
		{"URL port too large", []string{"http://" + host + ":99999/"}, "port 99999: want 1 to 65535"},
		{"URL port 0", []string{"http://" + host + ":0/"}, "port 0: want 1 to 65535"},
		{"URL port huge", []string{"http://" + host + ":99999999999999999999/"}, "want 1 to 65535"},
		{"URL host with a quote", []string{"http://a\"b:" + port + "/"}, "neither an IP address nor a host name"},
		{"URL host with a bang", []string{"http://a!b:" + port + "/"}, "neither an IP address nor a host name"},
		{"URL without host", []string{"http:///ready"}, "no host"},
		{"URL with a control character", []string{"http://" + plain.addr + "/\x7f"}, "invalid URL"},
		{"tcp port too large", []string{"tcp", host + ":99999"}, "want 1 to 65535"},
		{"tcp port 0", []string{"tcp", host + ":0"}, "want 1 to 65535"},
		{"tcp negative port", []string{"tcp", host + ":-1"}, "want 1 to 65535, or a known service name"},
		{"tcp unknown service", []string{"tcp", host + ":no-such-service-x"}, "known service name"},
		{"tcp host with a space", []string{"tcp", "a b:" + port}, "neither an IP address nor a host name"},
		{"tcp host with a slash", []string{"tcp", "a/b:" + port}, "neither an IP address nor a host name"},
		{"tcp too many colons", []string{"tcp", host + ":" + port + ":1"}, "want HOST:PORT"},
		{"exec argument with NUL", []string{"exec", "true", "a\x00b"}, "argument 1 holds a NUL byte"},
		{"exec command with NUL", []string{"exec", "tr\x00ue"}, "the command holds a NUL byte"},
		{"exec empty command", []string{"exec", ""}, "exec: missing command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the connection counts must be this row's own.
			before := plain.conns.Load() + tls.conns.Load()
			r := runArgs(append([]string{"-timeout", "10s"}, tc.args...)...)
			assert.Equal(t, exitUsage, r.code, "stderr: %s", r.stderr)
			first, _, _ := strings.Cut(r.stderr, "\n")
			assert.True(t, strings.HasPrefix(first, "healthprobe: "), "first line %q", first)
			assert.Contains(t, first, tc.want)
			assert.Contains(t, r.stderr, "usage: healthprobe")
			assert.NotContains(t, r.stderr, secret, "the header's value is not quoted")
			assert.Empty(t, r.stdout)
			assert.Equal(t, before, plain.conns.Load()+tls.conns.Load(), "no connection before the arguments are checked")
		})
	}
}

// TestRunAcceptsUnusualArguments: what net/http does send is not refused:
// each of these probes the loopback server and passes.
func TestRunAcceptsUnusualArguments(t *testing.T) {
	t.Parallel()
	plain, tls := newCountingServer(t, false), newCountingServer(t, true)
	_, port, err := net.SplitHostPort(plain.addr)
	require.NoError(t, err)
	u, su := plain.url+"/", tls.url+"/"
	for name, args := range map[string][]string{
		"tab inside a value":        {"-header", "X-T: a\tb", u},
		"UTF-8 value":               {"-header", "X-U: café", u},
		"empty value":               {"-header", "X-E:", u},
		"Host with port":            {"-header", "Host: svc.local:8080", u},
		"Host with underscore":      {"-header", "Host: my_svc", u},
		"international Host":        {"-header", "Host: bücher.example", u},
		"Connection: close":         {"-header", "Connection: close", u},
		"Connection: Keep-Alive":    {"-header", "Connection: Keep-Alive", u},
		"empty Upgrade":             {"-header", "Upgrade:", u},
		"Connection: close over h2": {"-insecure", "-header", "Connection: close", su},
		"Host over h2":              {"-insecure", "-header", "Host: svc.local", su},
		"repeated other header":     {"-header", "X-A: 1", "-header", "X-A: 2", u},
		"localhost":                 {"http://localhost:" + port + "/"},
		"tcp":                       {"tcp", plain.addr},
		"tcp localhost":             {"tcp", "localhost:" + port},
		"tcp port with a plus":      {"tcp", "127.0.0.1:+" + port},
	} {
		t.Run(name, func(t *testing.T) {
			r := runArgs(append([]string{"-timeout", "10s"}, args...)...)
			assert.Equal(t, exitPass, r.code, "stderr: %s", r.stderr)
		})
	}
}
