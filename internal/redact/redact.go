// Package redact hides credentials in text that probekit shows: errors,
// log lines and health responses. Drivers and clients echo their connection
// strings into errors, and a health endpoint must never become the place
// where a password leaks.
//
// String recognises the forms that Go's net/url and the common drivers
// accept: URL userinfo (net/url splits the authority at its last '@', so a
// password may hold '@' and ':'), percent-encoded or not; query parameters
// and key=value pairs whose key names a secret (password=, sslpassword=,
// token=, api_key=, client_secret=, AccountKey=, sig= ...), with libpq's
// quoting and backslash escapes; go-sql-driver/mysql DSNs
// (user:password@tcp(host:port)/db, where the password may hold '@', ':',
// '/', '(' and spaces); Authorization values and bearer tokens; and all of
// these quoted inside other text. Where it cannot tell a credential from the
// text around it, it hides too much rather than too little: an operator can
// look a host name up, but a leaked password must be rotated.
package redact

import (
	"regexp"
	"strings"
)

// Mask replaces every secret that String finds.
const Mask = "xxxxx"

// secretKey is a key that names a secret, with any prefix or suffix
// (PGPASSWORD, sslpassword, client_secret, X-Api-Key, AccountKey).
const secretKey = `[A-Za-z0-9_.\-]*(?i:pass|pwd|secret|token|key|signature|sig|credential|auth)[A-Za-z0-9_.\-]*`

// quotedValue is a value in single or double quotes, with backslash
// escapes as libpq allows them, perhaps quoted again (%q doubles every
// backslash and writes " as \"). Inside it a quote closes the value only
// after a run of backslashes whose length is a multiple of four: an odd run
// escapes the quote in libpq, a run of two is an escaped quote quoted again,
// and where the two readings differ the value is read on, hiding more.
const quotedValue = singleQuoted + `|` + doubleQuoted

const (
	singleQuoted = `\\*'(?:[^'\\]|\\+[^'\\]|\\{4}|(?:\\{4})*\\{1,3}')*'?`
	doubleQuoted = `\\*"(?:[^"\\]|\\+[^"\\]|\\{4}|(?:\\{4})*\\{1,3}")*"?`
)

// authScheme is the scheme word of an Authorization value, hidden with it.
const authScheme = `(?:(?i:bearer|basic|digest|token|negotiate)\s+)?`

var (
	// key=value pairs. After a ';' (ADO.NET and Azure connection strings)
	// an unquoted value runs to the next ';' and may hold blanks. Elsewhere
	// (libpq keyword/value DSNs, with spaces around '=' allowed, query
	// strings, flags) it runs to the next blank: a libpq value may hold ';'
	// and '&', so a query string's next parameters are hidden too. An
	// ADO.NET string that starts with its password is read the libpq way,
	// hiding the pairs after it as well.
	keyValue = regexp.MustCompile(`(;\s*` + secretKey + `\s*=\s*)` + authScheme + `(?:` + quotedValue + `|[^;]+)` +
		`|(` + secretKey + `\s*=\s*)` + authScheme + `(?:` + quotedValue + `|\S+)`)
	// "key": "value" pairs in JSON.
	// The quotes around the key may be escaped (JSON quoted in an error).
	jsonPair = regexp.MustCompile(`(\\*"` + secretKey + `\\*"\s*:\s*)(` + doubleQuoted + `|[^\s,}]+)`)
	// key: value in logs and YAML ("password: hunter2"); the blank after
	// the colon tells it from a URL's user:password.
	colonPair = regexp.MustCompile(`(?i)(\b(?:password|passwd|pwd|secret|token|api[_-]?key|authorization)\s*:\s+)` + authScheme + `(` + quotedValue + `|[^\s,;]+)`)
	// Authorization values and bare bearer tokens.
	authorization = regexp.MustCompile(`(?i)(authorization\s*[:=]\s*)` + authScheme + `[^\s,;&]+`)
	bearer        = regexp.MustCompile(`(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]+=*`)
	// net/url quotes the port it cannot parse, which is part of a password
	// when the password held a '/' (postgres://app:p/ss@db).
	badPort = regexp.MustCompile(`(invalid port )"(?:[^"\\]|\\.)*"`)
	// A URL scheme and "//".
	scheme = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://`)
	// The protocol and "(" of a go-sql-driver/mysql DSN after its '@'.
	mysqlNet = regexp.MustCompile(`@[A-Za-z][A-Za-z0-9_]*\(`)
)

// String returns s with every credential it finds replaced by Mask. It
// never fails and is safe for concurrent use.
//
// Each rule runs only on text that holds what it looks for (a secret-like
// key, "://", an '@' before a '('), so text with nothing to hide costs a few
// scans of it, not a regular expression per rule.
func String(s string) string {
	// Whole values first, so that a URL quoted inside a password=
	// value is hidden with the rest of it.
	if hasSecretWord(s) {
		if strings.IndexByte(s, '=') >= 0 {
			s = keyValue.ReplaceAllString(s, "${1}${2}"+Mask)
		}
		if strings.IndexByte(s, '"') >= 0 && strings.IndexByte(s, ':') >= 0 {
			s = jsonPair.ReplaceAllString(s, "${1}\""+Mask+"\"")
		}
		if containsFold(s, "auth") {
			s = authorization.ReplaceAllString(s, "${1}"+Mask)
		}
		if strings.IndexByte(s, ':') >= 0 {
			s = colonPair.ReplaceAllString(s, "${1}"+Mask)
		}
	}
	if containsFold(s, "bearer") {
		s = bearer.ReplaceAllString(s, "${1}"+Mask)
	}
	if strings.Contains(s, "invalid port ") {
		s = badPort.ReplaceAllString(s, `${1}"`+Mask+`"`)
	}
	if strings.Contains(s, "://") {
		s = urlUserinfo(s)
	}
	if strings.IndexByte(s, '@') >= 0 && strings.IndexByte(s, '(') >= 0 {
		s = mysqlUserinfo(s)
	}
	if strings.IndexByte(s, '@') >= 0 && strings.IndexByte(s, ':') >= 0 {
		s = bareUserinfo(s)
	}
	return s
}

// bareUserinfo hides the password of user:password@host written without a
// scheme, as dialers and gRPC quote a target: in each blank-separated word
// that holds no "://", what lies between the first ':' and the last '@'.
// A word without a ':' before its '@' (an e-mail address) is left alone.
func bareUserinfo(s string) string {
	var b strings.Builder
	for s != "" {
		i := strings.IndexAny(s, " \t\n\"'`()<>,;")
		word, rest := s, ""
		if i >= 0 {
			word, rest = s[:i], s[i:]
		}
		at := strings.LastIndexByte(word, '@')
		colon := strings.IndexByte(word, ':')
		if at > 0 && colon >= 0 && colon < at && !strings.Contains(word, "://") && word[colon+1:at] != Mask && colon+1 < at {
			word = word[:colon+1] + Mask + word[at:]
		}
		b.WriteString(word)
		if rest == "" {
			break
		}
		b.WriteByte(rest[0])
		s = rest[1:]
	}
	return b.String()
}

// secretWords are the words of secretKey (and colonPair, authorization):
// a text without any of them has no key=value secret to hide.
var secretWords = [...]string{"pass", "pwd", "secret", "token", "key", "sig", "credential", "auth"}

func hasSecretWord(s string) bool {
	for _, w := range secretWords {
		if containsFold(s, w) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII word w, in
// any case, without allocating.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for j < len(w) && s[i+j]|0x20 == w[j] {
			j++
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

// urlEnd reports whether c ends a URL inside text. net/url accepts neither
// blanks nor these characters in a URL; a quote ' may be part of a password.
func urlEnd(c byte) bool {
	return c <= ' ' || c == '"' || c == '`' || c == '<' || c == '>' || c == 0x7f
}

// urlUserinfo hides the password (or, without a user:password split, the
// whole userinfo, often a token) of every scheme://userinfo@host in s.
func urlUserinfo(s string) string {
	var b strings.Builder
	for {
		loc := scheme.FindStringIndex(s)
		if loc == nil {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:loc[1]])
		rest := s[loc[1]:]
		end := 0
		for end < len(rest) && !urlEnd(rest[end]) {
			if rest[end] == '\\' && end+1 < len(rest) {
				end++ // an escaped character inside a quoted string
			}
			end++
		}
		token := rest[:end]
		b.WriteString(hideUserinfo(token))
		s = rest[end:]
	}
}

// hideUserinfo hides the credential in token, the text after "scheme://".
// The userinfo ends at the last '@' of the token, as net/url ends it at the
// last '@' of the authority; a password that holds '/', '?' or '#' (which
// net/url refuses, but drivers' errors quote) is thus hidden too.
func hideUserinfo(token string) string {
	at := strings.LastIndexByte(token, '@')
	if at < 0 {
		return hidePortLike(token)
	}
	user, _, hasPassword := strings.Cut(token[:at], ":")
	if !hasPassword || strings.ContainsAny(user, "/?#") {
		return Mask + token[at:] // a token as userinfo, or no telling
	}
	return user + ":" + Mask + token[at:]
}

// hidePortLike hides what follows the ':' of an authority with no '@' when
// it is not a port: "redis://:hunter2" or a DSN cut off before its '@'.
func hidePortLike(token string) string {
	authEnd := strings.IndexAny(token, "/?#")
	if authEnd < 0 {
		authEnd = len(token)
	}
	auth := token[:authEnd]
	if strings.HasPrefix(auth, "[") {
		return token // an IPv6 literal
	}
	i := strings.IndexByte(auth, ':')
	if i < 0 || allDigits(auth[i+1:]) || strings.Contains(auth[i+1:], ",") && portList(auth) {
		return token
	}
	return auth[:i+1] + Mask + token[authEnd:]
}

// portList reports whether auth is a list of host:port (mongodb's
// h1:27017,h2:27017).
func portList(auth string) bool {
	for hp := range strings.SplitSeq(auth, ",") {
		if i := strings.LastIndexByte(hp, ':'); i >= 0 && !allDigits(hp[i+1:]) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// mysqlUserinfo hides the password of every go-sql-driver/mysql DSN
// (user:password@tcp(host:port)/db) in s. The driver splits at the last '@'
// before the protocol and at the first ':' of what precedes it, so the
// password may hold anything, blanks included. The DSN is taken to start
// after the nearest quote, line break or ": " (the separator of wrapped Go
// errors) before the '@'.
func mysqlUserinfo(s string) string {
	locs := mysqlNet.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	prev := 0
	for _, loc := range locs {
		at := loc[0]
		if at < prev {
			continue
		}
		start := dsnStart(s, prev, at)
		span := s[start:at]
		if i := strings.LastIndex(span, "://"); i >= 0 && !strings.ContainsFunc(span[i:], func(r rune) bool { return r < 0x80 && urlEnd(byte(r)) }) {
			continue // a URL's userinfo, which urlUserinfo has hidden
		}
		if i := strings.IndexByte(span, ':'); i >= 0 {
			b.WriteString(s[prev:start] + span[:i+1] + Mask)
		} else if i := userColon(s, prev, start); i >= 0 {
			// What looked like the DSN's start (a quote, '=') was inside
			// the password: hide from the user's ':' on.
			b.WriteString(s[prev:i+1] + Mask)
		} else {
			b.WriteString(s[prev:start])
			// No user:password split: hide the word before the '@', which
			// may be a password as much as a user name.
			j := strings.LastIndexAny(span, " \t") + 1
			b.WriteString(span[:j] + Mask)
		}
		prev = at
	}
	b.WriteString(s[prev:])
	return b.String()
}

// userColon returns the index of the nearest ':' before start on the same
// line, not before from, that is not the ": " of a wrapped error, or -1.
func userColon(s string, from, start int) int {
	for i := start - 1; i >= from && s[i] != '\n'; i-- {
		if s[i] == ':' && s[i+1] != ' ' {
			return i
		}
	}
	return -1
}

// dsnStart returns where the DSN that ends at at begins, not before from.
// A quote starts it only when it opens (after a blank or punctuation, or at
// the start): a quote inside a password does not.
func dsnStart(s string, from, at int) int {
	for i := at - 1; i >= from; i-- {
		opening := i == 0 || strings.IndexByte(" \t([{=:,", s[i-1]) >= 0
		switch c := s[i]; {
		case c == '\n':
			return i + 1
		case (c == '"' || c == '\'' || c == '`' || c == '(') && opening:
			return i + 1
		case c == ' ' && i > from && s[i-1] == ':':
			return i + 1
		case c == '=' && i+1 < at && s[i+1] != '=':
			return i + 1
		}
	}
	return from
}
