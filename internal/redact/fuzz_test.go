package redact_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/probekit/probekit/internal/redact"
)

// forms are the shapes in which a password reaches an error string. Each
// builds the text from a user, a password and a host, or returns "" when
// the password cannot be written in that form (the parser that accepts the
// form would refuse it, so no driver would echo it).
var forms = []func(user, pw, host string) string{
	// URL userinfo, raw, as net/url accepts it.
	func(user, pw, host string) string {
		raw := "postgres://" + user + ":" + pw + "@" + host + "/app?sslmode=require"
		if u, err := url.Parse(raw); err != nil || u.User == nil || !samePassword(u, pw) {
			return ""
		}
		return raw
	},
	// URL userinfo, percent-encoded, in several schemes and hosts lists.
	func(user, pw, host string) string {
		return "mongodb+srv://" + url.PathEscape(user) + ":" + url.QueryEscape(pw) + "@" + host + "," + host + ":27017/db"
	},
	func(user, pw, host string) string {
		return "rediss://:" + url.PathEscape(pw) + "@" + host + ":6380/0"
	},
	func(user, pw, host string) string {
		return "amqp://" + (&url.URL{User: url.UserPassword(user, pw)}).User.String() + "@" + host + ":5672/vhost"
	},
	// Query parameters.
	func(user, pw, host string) string {
		return "postgres://" + host + "/app?user=" + url.QueryEscape(user) + "&password=" + url.QueryEscape(pw) + "&sslmode=disable"
	},
	func(user, pw, host string) string {
		return "https://" + host + "/v1?token=" + url.QueryEscape(pw)
	},
	// libpq keyword/value, quoted with backslash escapes.
	func(user, pw, host string) string {
		q := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw)
		return "host=" + host + " user=" + user + " password='" + q + "' dbname=app"
	},
	// libpq unquoted, where libpq allows it.
	func(user, pw, host string) string {
		if pw == "" || strings.ContainsAny(pw, " \t\n\r\v\f'\\") {
			return ""
		}
		return "host=" + host + " password=" + pw + " dbname=app"
	},
	// go-sql-driver/mysql: anything but a line break in the password. The
	// driver splits at the first ':', so a user name holds no ':'.
	func(user, pw, host string) string {
		if strings.ContainsAny(pw, "\n\r") || strings.Contains(user, ":") {
			return ""
		}
		return user + ":" + pw + "@tcp(" + host + ":3306)/app?parseTime=true"
	},
	// ADO.NET, quoted when it must be.
	func(user, pw, host string) string {
		if strings.ContainsAny(pw, `;"`) || strings.TrimSpace(pw) != pw {
			return ""
		}
		return "Server=" + host + ";User Id=" + user + ";Password=" + pw + ";Database=app"
	},
	// JSON, as a config dump or a response body shows it.
	func(user, pw, host string) string {
		b, err := json.Marshal(map[string]string{"host": host, "user": user, "password": pw})
		if err != nil {
			return ""
		}
		return string(b)
	},
	// An Authorization header: HTTP refuses control characters in a
	// header value, and a token (RFC 6750's token68) holds no blank, ',',
	// ';' or '&'.
	func(user, pw, host string) string {
		if strings.ContainsFunc(pw, func(r rune) bool { return r < ' ' || r == 0x7f || strings.ContainsRune(" ,;&", r) }) {
			return ""
		}
		return "Authorization: Bearer " + pw
	},
}

// samePassword reports whether net/url read pw as the password of u.
func samePassword(u *url.URL, pw string) bool {
	got, ok := u.User.Password()
	return ok && got == pw
}

// wrappers put a form inside the text around it in errors.
var wrappers = []func(string) string{
	func(s string) string { return s },
	func(s string) string { return "failed to connect to " + s + ": dial tcp: i/o timeout" },
	func(s string) string { return "cannot parse " + strconv.Quote(s) + ": invalid" },
	func(s string) string { return "open '" + s + "' failed" },
	func(s string) string { return "checks: SQL: ping: " + s },
}

// FuzzRedact: a password planted in any form, inside any wrapper, never
// survives String, in any way it was written (raw or percent-encoded); and
// String never panics, whatever it is given.
func FuzzRedact(f *testing.F) {
	for _, seed := range []struct{ user, pw, host string }{
		{"app", "p@SECRET", "db"},
		{"app", "S:E/C(R@ET", "db.internal"},
		{"", "hunter2hunter2", "cache"},
		{"admin", "it's a s3cret!", "10.0.0.7"},
		{"u", `back\slash"quote`, "[::1]"},
		{"app", "p%40ss%2Fword", "db"},
		{"app", "ends with colon:", "db"},
		{"a:b", "tcp(db:1)/x@y", "h"},
	} {
		for i := range forms {
			for j := range wrappers {
				f.Add(seed.user, seed.pw, seed.host, uint8(i), uint8(j))
			}
		}
	}
	f.Fuzz(func(t *testing.T, user, pw, host string, form, wrap uint8) {
		text := wrappers[int(wrap)%len(wrappers)](forms[int(form)%len(forms)](user, pw, host))
		out := redact.String(text) // must not panic, whatever text is
		_ = redact.String(user + pw + host)

		// Judge only passwords that can be told apart from their
		// surroundings: long enough, not all mask letters, and not already
		// part of the text with the password left out.
		if text == "" || len(pw) < 8 || strings.Trim(pw, "x") == "" || strings.ContainsAny(host, " \t\n\r\"'`<>@/?#=;:(),") ||
			host == "" || strings.Contains(user, "@") {
			return
		}
		without := wrappers[int(wrap)%len(wrappers)](forms[int(form)%len(forms)](user, "", host))
		// A part of the password is a leak too: each run of it between
		// blanks and punctuation, where a rule might stop early.
		pieces := strings.FieldsFunc(pw, func(r rune) bool { return r <= ' ' || strings.ContainsRune(";,&:@/'\"()", r) })
		for _, written := range append([]string{pw, url.QueryEscape(pw), url.PathEscape(pw)}, pieces...) {
			if len(written) < 8 || strings.Contains(without, written) || strings.Contains(redact.Mask+redact.Mask, written) ||
				strings.Contains(user, written) || strings.Contains(host, written) {
				continue
			}
			if strings.Contains(out, written) {
				t.Fatalf("String(%q)\n= %q\nleaks the password %q", text, out, written)
			}
		}
	})
}
