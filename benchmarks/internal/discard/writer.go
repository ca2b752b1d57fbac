// Package discard provides an http.ResponseWriter that allocates nothing
// per response, so that a benchmark of a handler measures the handler and
// not the recorder (httptest.ResponseRecorder allocates a header map and a
// body buffer for every response).
package discard

import "net/http"

// Writer is an http.ResponseWriter that keeps the status code and counts
// the body bytes of one response, and reuses its header map across
// responses. Use New, serve a response, read Code and Len, then Reset
// before the next. A Writer is not safe for concurrent use: give each
// goroutine its own.
type Writer struct {
	header http.Header
	code   int
	n      int
}

// New returns a Writer with an empty header map.
func New() *Writer { return &Writer{header: make(http.Header)} }

// Header returns the reused header map; Reset empties it.
func (w *Writer) Header() http.Header { return w.header }

// WriteHeader records code; like net/http, only the first call counts.
func (w *Writer) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

// Write counts len(p) bytes, discards them and never fails. Like net/http,
// a Write before WriteHeader implies 200.
func (w *Writer) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// Code returns the status code of the response so far: 0 when the handler
// wrote nothing, which net/http would send as 200 with an empty body.
func (w *Writer) Code() int { return w.code }

// Len returns the number of body bytes written since the last Reset.
func (w *Writer) Len() int { return w.n }

// Reset forgets the response, emptying the header map without freeing its
// storage, so that the next response allocates nothing here.
func (w *Writer) Reset() {
	clear(w.header)
	w.code, w.n = 0, 0
}
