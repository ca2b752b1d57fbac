package httpprobe

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// ParseURL parses raw as a probe's URL: absolute, http or https, with a
// host. Its errors never quote raw, which may hold credentials; they say
// what is wrong in a few words.
func ParseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("empty URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// The *url.Error quotes raw; what it wraps may quote a part of it
		// (an invalid port, a bad escape), which is no credential but can
		// be a fragment of one: keep only the kind of mistake.
		return nil, errors.New("invalid URL: " + parseProblem(unwrapURLError(err)))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		if u.Scheme == "" {
			return nil, errors.New("URL has no scheme: want http:// or https://")
		}
		return nil, errors.New("URL scheme must be http or https")
	case u.Opaque != "":
		return nil, errors.New("URL must be of the form scheme://host/path")
	case u.Host == "":
		return nil, errors.New("URL has no host")
	}
	return u, nil
}

// parseProblem names the kind of mistake in a url.Parse error without the
// part of the URL it quotes.
func parseProblem(err error) string {
	msg := err.Error()
	if i := strings.IndexAny(msg, "\"'"); i > 0 {
		msg = strings.TrimRight(msg[:i], " :")
	}
	if msg == "" {
		return "does not parse"
	}
	return msg
}

// Shown is u as errors and messages may show it: scheme, host and path,
// without userinfo, query or fragment, any of which may carry a credential.
func Shown(u *url.URL) string {
	if u == nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
}

// ValidHeader reports why name: value cannot be sent as a request header,
// or nil, by net/http's rule (golang.org/x/net/http/httpguts, which its
// transport applies to every request before dialling): the name must be
// an RFC 9110 token, and the value must hold no control character (bytes
// 0x00 to 0x1F and DEL, 0x7F) but a horizontal tab; other bytes, UTF-8
// and obs-text included, are sent as they are. Its errors quote the name,
// never the value, which is often a credential.
func ValidHeader(name, value string) error {
	if name == "" {
		return errors.New("empty header name")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return errors.New("invalid header name " + strconv.Quote(name))
		}
	}
	for i := 0; i < len(value); i++ {
		switch c := value[i]; {
		case c == '\r' || c == '\n':
			return errors.New("the value of header " + strconv.Quote(name) + " holds a line break")
		case c == 0:
			return errors.New("the value of header " + strconv.Quote(name) + " holds a NUL byte")
		case c < ' ' && c != '\t' || c == 0x7f:
			return errors.New("the value of header " + strconv.Quote(name) + " holds a control character")
		}
	}
	return nil
}

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
