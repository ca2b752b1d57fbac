package httpprobe_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/probekit/probekit/internal/httpprobe"
)

func TestValidHeader(t *testing.T) {
	for _, c := range []struct {
		name, value string
		problem     string // what the error says; "" if valid
	}{
		{"X-A", "b", ""},
		{"Host", "svc", ""},
		{"User-Agent", "", ""},
		{"a!#$%&'*+-.^_`|~z", "v v", ""},
		{"X-T", "a\tb", ""},
		{"X-E", "\t", ""},
		{"X-U", "café", ""},
		{"X-O", "\x80\xff\xfe", ""}, // obs-text: net/http sends it
		{"X-S", "  a  ", ""},
		{"", "v", "empty header name"},
		{"X A", "v", "invalid header name"},
		{"X:A", "v", "invalid header name"},
		{"X\n", "v", "invalid header name"},
		{"Ω", "v", "invalid header name"},
		{"X\x7f", "v", "invalid header name"},
		{"X", "a\r\nY: b", "line break"},
		{"X", "a\nb", "line break"},
		{"X", "a\rb", "line break"},
		{"X", "a\x00", "NUL"},
		{"X-Del", "a\x7fb", "control character"},
		{"X-C", "a\x01b", "control character"},
		{"X-C", "\x1b[0m", "control character"},
		{"X-C", "a\vb", "control character"},
		{"X-C", "a\fb", "control character"},
		{"X-C", "\x1f", "control character"},
		{"Authorization", "Bearer s3cr3t-t0ken\x7f", "control character"},
	} {
		err := httpprobe.ValidHeader(c.name, c.value)
		switch {
		case c.problem == "" && err != nil:
			t.Errorf("ValidHeader(%q, %q) = %v, want nil", c.name, c.value, err)
		case c.problem != "" && err == nil:
			t.Errorf("ValidHeader(%q, %q) accepted, want an error saying %q", c.name, c.value, c.problem)
		case err != nil && !strings.Contains(err.Error(), c.problem):
			t.Errorf("ValidHeader(%q, %q) = %q, want it to say %q", c.name, c.value, err, c.problem)
		case err != nil && len(c.value) > 2 && strings.Contains(err.Error(), strings.TrimSpace(c.value)):
			t.Errorf("ValidHeader(%q, %q): error %q quotes the value", c.name, c.value, err)
		}
	}
}

// TestValidHeaderIsNetHTTPsRule: for every byte, in a value and in a name,
// ValidHeader refuses exactly what net/http's transport refuses to send
// (it checks headers before dialling; the dialer here never connects).
func TestValidHeaderIsNetHTTPsRule(t *testing.T) {
	for b := 0; b < 256; b++ {
		value := "a" + string([]byte{byte(b)}) + "b"
		if got, want := httpprobe.ValidHeader("X-V", value) == nil, netHTTPSends(t, "X-V", value); got != want {
			t.Errorf("value byte %#02x: ValidHeader accepts it %v, net/http sends it %v", b, got, want)
		}
		name := "X" + string([]byte{byte(b)})
		if got, want := httpprobe.ValidHeader(name, "v") == nil, netHTTPSends(t, name, "v"); got != want {
			t.Errorf("name byte %#02x: ValidHeader accepts it %v, net/http sends it %v", b, got, want)
		}
	}
}

var errNoDial = errors.New("not dialling")

// netHTTPSends reports whether net/http's transport would send a request
// with the header name: value, without connecting anywhere.
func netHTTPSends(t *testing.T, name, value string) bool {
	t.Helper()
	tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, errNoDial }}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header[name] = []string{value} // as given, not canonicalised
	res, err := tr.RoundTrip(req)
	if res != nil {
		_ = res.Body.Close()
	}
	return errors.Is(err, errNoDial)
}
