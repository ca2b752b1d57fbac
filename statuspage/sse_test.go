package statuspage

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// stream is a client of the page's event stream over the network.
type stream struct {
	events chan string    // each event's data, lines joined with "\n"
	done   chan struct{}  // closed when the server ends the stream
	cancel func()         // leaves
	res    *http.Response // the response, for its headers
}

// openStream opens url's event stream; it is closed when the test ends.
func openStream(t *testing.T, client *http.Client, url string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	res, err := client.Do(req)
	require.NoError(t, err)
	s := &stream{events: make(chan string, 1000), done: make(chan struct{}), cancel: cancel, res: res}
	go func() {
		defer close(s.done)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && data != nil:
				select {
				case s.events <- strings.Join(data, "\n"):
				default:
				}
				data = nil
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

// close leaves the stream and waits for the reader to finish. Call it
// before closing an httptest.Server, which waits for open requests.
func (s *stream) close() {
	s.cancel()
	<-s.done
}

// waitFor returns the first event whose data contains want, failing the
// test if none comes within d or the stream ends first.
func (s *stream) waitFor(t *testing.T, want string, d time.Duration) string {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case ev := <-s.events:
			if strings.Contains(ev, want) {
				return ev
			}
		case <-s.done:
			t.Fatalf("the stream ended before an event with %q", want)
		case <-deadline.C:
			t.Fatalf("no event with %q within %v", want, d)
		}
	}
}

// ended waits up to d for the server to end the stream.
func (s *stream) ended(d time.Duration) bool {
	select {
	case <-s.done:
		return true
	case <-time.After(d):
		return false
	}
}
