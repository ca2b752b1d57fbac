package httpprobe_test

import (
	"strings"
	"testing"

	"github.com/probekit/probekit/internal/httpprobe"
)

// FuzzParseURL: ParseURL never panics; what it accepts is an absolute
// http(s) URL with a host; and its errors never quote a password planted in
// the URL's userinfo (or anywhere else: an error quotes nothing of the URL
// beyond a few words of its own).
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1/", "https://u:p@h:8443/r?q=1#f", "ftp://h/", "http://", "/ready", "http://[::1",
		"http://h:port/", "http://h/%zz", "http:opaque", "HTTP://H/", "http://u:p@h@h2/", "http://a b/",
	} {
		f.Add(s, "s3cretPW9")
	}
	f.Fuzz(func(t *testing.T, raw, pw string) {
		if i := strings.Index(raw, "://"); i >= 0 && len(pw) >= 6 {
			raw = raw[:i+3] + "user:" + pw + "@" + raw[i+3:]
		}
		u, err := httpprobe.ParseURL(raw)
		if err != nil {
			if len(pw) >= 6 && strings.Contains(err.Error(), pw) && !strings.Contains("invalid URL: empty URL has no scheme: want http:// or https:// URL scheme must be http or https URL has no host must be of the form scheme://host/path", pw) {
				t.Fatalf("ParseURL(%q) error %q quotes the password", raw, err)
			}
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
			t.Fatalf("ParseURL(%q) accepted %#v", raw, u)
		}
		if shown := httpprobe.Shown(u); u.User != nil && strings.Contains(shown, "@") && strings.Contains(shown, u.User.String()) {
			t.Fatalf("Shown(%q) = %q shows the userinfo", raw, shown)
		}
	})
}
