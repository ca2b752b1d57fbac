package checks

import "regexp"

// redacted replaces every secret that redact finds.
const redacted = "xxxxx"

// secretPatterns match the shapes in which drivers and clients echo
// credentials into error text. They err on the side of hiding too much: an
// operator can look a username up, but a leaked password has to be rotated.
var secretPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	// URL userinfo with a password: scheme://user:password@host.
	{regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^:@/\s?#]*):[^@\s]*@`), "${1}:" + redacted + "@"},
	// URL userinfo without a password is often a token: scheme://token@host.
	{regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^:@/\s?#]+@`), "${1}" + redacted + "@"},
	// Go MySQL driver DSNs: user:password@tcp(host:port)/db.
	{regexp.MustCompile(`([^\s:@/'"(]*):[^@\s]*@(tcp|tcp6|unix|udp)\(`), "${1}:" + redacted + "@${2}("},
	// Authorization headers, with or without a scheme word.
	{regexp.MustCompile(`(?i)(authorization\s*[:=]\s*)(?:(?:bearer|basic|digest|token|negotiate)\s+)?[^\s,;&]+`), "${1}" + redacted},
	// key=value pairs in libpq-style DSNs and query strings whose key names a
	// secret: password=, sslpassword=, ?token=, api_key=, client_secret=...
	{regexp.MustCompile(`(?i)([A-Za-z0-9_.\-]*(?:password|passwd|pwd|pass|secret|token|apikey|api_key|api-key|signature|credential)[A-Za-z0-9_.\-]*\s*=\s*)('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s&;]+)`), "${1}" + redacted},
}

// redact hides credentials in s (see secretPatterns).
func redact(s string) string {
	for _, p := range secretPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}
