package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/probekit/probekit/internal/httpprobe"
)

// Everything run checks before it probes: an argument that net/http, the
// dialer or exec would refuse on every attempt is a usage error (exit 2),
// never a failed probe (exit 1) and never a connection. Errors never quote
// a header's value or a URL's userinfo or query, which may be credentials.

// parseHeader parses one -header 'Name: value'. The name must be an HTTP
// token and the value must hold no control character but a tab (net/http
// refuses the others, DEL included, on every request); the value's
// surrounding blanks are dropped, as in an HTTP header line.
func parseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", errors.New("want 'Name: value', got no colon")
	}
	value = strings.Trim(value, " \t")
	if strings.ContainsAny(name, " \t") {
		// Not quoted: "Authorization Bearer t0k:x" lacks its colon, and
		// its "name" holds the credential.
		return "", "", errors.New("invalid header name: it holds a blank (is the colon after the name missing?)")
	}
	if err := httpprobe.ValidHeader(name, value); err != nil {
		return "", "", fmt.Errorf("want 'Name: value': %v", err)
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
			return "", "", fmt.Errorf("the value of header %q holds a control character", name)
		}
	}
	return name, value, nil
}

// checkHTTP reports why an HTTP probe of raw with header h could not be
// sent as asked, or nil.
func checkHTTP(raw string, h http.Header) error {
	u, err := httpprobe.ParseURL(raw)
	if err != nil {
		return err
	}
	if err := checkPort(u.Port(), false); err != nil {
		return fmt.Errorf("URL: %v", err)
	}
	if err := checkHostName(u.Hostname()); err != nil {
		return fmt.Errorf("URL: %v", err)
	}
	if !validHost(u.Host) {
		return errors.New("URL: the host is not valid in a Host header")
	}
	if err := checkHeaders(h); err != nil {
		return err
	}
	if host := h.Get("Host"); host != "" && !validHost(host) {
		return errors.New("-header Host: not a valid host[:port]")
	}
	return nil
}

// checkHeaders applies net/http's rules for the headers that are about the
// connection: an https probe may speak HTTP/2, where net/http refuses a
// request with any other Connection, Upgrade or Transfer-Encoding (and over
// HTTP/1.1 they would only make a probe fail or hang). Host must be given
// at most once: a second one would be ignored.
func checkHeaders(h http.Header) error {
	allowed := map[string][]string{
		"Connection":        {"", "close", "keep-alive"},
		"Upgrade":           {"", "chunked"},
		"Transfer-Encoding": {"", "chunked"},
	}
	for name, ok := range allowed {
		vs := h[name]
		switch {
		case len(vs) > 1:
			return fmt.Errorf("-header %s: given %d times; give it at most once", name, len(vs))
		case len(vs) == 1 && !containsFold(ok, vs[0]):
			q := quoteAll(ok)
			return fmt.Errorf("-header %s: net/http refuses it over HTTP/2, which an https probe may speak, unless it is %s or %s",
				name, strings.Join(q[:len(q)-1], ", "), q[len(q)-1])
		}
	}
	if n := len(h["Host"]); n > 1 {
		return fmt.Errorf("-header Host: given %d times; give it at most once", n)
	}
	return nil
}

// validHost reports whether net/http sends host (host or host:port, as in
// a URL or a Host header) as it is. It writes a request with that Host to
// a buffer: net/http converts an international name to punycode and then
// replaces a Host it finds invalid by an empty one over HTTP/1.1, and
// refuses the request over HTTP/2.
func validHost(host string) bool {
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "http", Host: "probe.invalid", Path: "/"},
		Host: host, Header: http.Header{}}
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		return false
	}
	return !bytes.Contains(buf.Bytes(), []byte("\r\nHost: \r\n"))
}

// checkHostName reports why name (without port or brackets) cannot be an
// IP address or a DNS name, or nil. An empty name (the local system) and
// international names are left to the dialer.
func checkHostName(name string) error {
	if name == "" {
		return nil
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return nil
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' {
			continue
		}
		return fmt.Errorf("host %q is neither an IP address nor a host name", name)
	}
	return nil
}

// checkPort reports why port cannot be dialled, or nil. An empty port
// (a URL's default) is fine; a number must be in [1, 65535]; a name (tcp
// only) must be a known service, as the dialer looks it up.
func checkPort(port string, names bool) error {
	if port == "" {
		return nil
	}
	if strings.Trim(port, "0123456789") == "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %s: want 1 to 65535", port)
		}
		return nil
	}
	if !names {
		return fmt.Errorf("port %q is not a number", port)
	}
	if n, err := net.LookupPort("tcp", port); err != nil || n < 1 {
		return fmt.Errorf("port %q: want 1 to 65535, or a known service name", port)
	}
	return nil
}

// checkTCP reports why addr cannot be dialled, or nil.
func checkTCP(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("tcp: want HOST:PORT: %v", err)
	}
	if port == "" {
		return errors.New("tcp: HOST:PORT has no port")
	}
	if err := checkPort(port, true); err != nil {
		return fmt.Errorf("tcp: %v", err)
	}
	if err := checkHostName(host); err != nil {
		return fmt.Errorf("tcp: %v", err)
	}
	return nil
}

// checkExec reports why command cannot be started as given, or nil. A
// command that is not found is not an argument error: it is the kubelet's
// "probe errored" (exit 1), since the image may lack it.
func checkExec(command []string) error {
	if len(command) == 0 || command[0] == "" {
		return errors.New("exec: missing command")
	}
	for i, a := range command {
		if strings.IndexByte(a, 0) >= 0 {
			if i == 0 {
				return errors.New("exec: the command holds a NUL byte")
			}
			return fmt.Errorf("exec: argument %d holds a NUL byte", i)
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strconv.Quote(s)
	}
	return out
}
