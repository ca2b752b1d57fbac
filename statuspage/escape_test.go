package statuspage

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

const hostile = `<script>alert(1)</script> "><img src=x onerror=alert(2)> dial postgres://app:hunter2@db:5432/x password=hunter2`

// laterPanickyError gives its text once, to the registry, then panics.
type laterPanickyError struct{ calls *atomic.Int32 }

func (e laterPanickyError) Error() string {
	if e.calls.Add(1) > 1 {
		panic("no more text")
	}
	return "once"
}

// hostileRegistry has a check failing with a hostile reason, one whose
// error panics when asked for its text, and readiness switched off for a
// hostile reason; every check has run once.
func hostileRegistry(t *testing.T) *health.Registry {
	t.Helper()
	reg := newRegistry(t)
	register(t, reg, health.Readiness, "db", health.DependencyFunc(healthtest.Fixed(errors.New(hostile))))
	register(t, reg, health.Readiness, "odd", healthtest.Fixed(laterPanickyError{new(atomic.Int32)}))
	reg.MarkNotReady(hostile)
	_, err := reg.Check(context.Background(), health.Readiness)
	require.NoError(t, err)
	return reg
}

// TestReasonsEscapedAndRedacted: with details, a reason shows as text,
// its credentials masked; markup in it never reaches the page as markup.
func TestReasonsEscapedAndRedacted(t *testing.T) {
	reg := hostileRegistry(t)
	p := newPage(t, reg, Options{Authorize: allow(AccessDetails), Title: `<b>pod</b>`})
	res, body := get(t, p, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	for _, bad := range []string{"<script>alert", "<img", "hunter2", "<b>pod"} {
		assert.NotContains(t, body, bad)
	}
	assert.Contains(t, rowOf(t, body, "db"), "&lt;script&gt;alert(1)&lt;/script&gt; &#34;&gt;&lt;img src=x onerror=alert(2)&gt; dial postgres://app:xxxxx@db:5432/x password=xxxxx")
	// The page shows the text the registry read, where the error's methods
	// are contained; it never calls them again (this one would panic).
	assert.Contains(t, rowOf(t, body, "odd"), ">once<")
	assert.Contains(t, body, "Readiness switch off</strong>")
	assert.Contains(t, body, "&lt;b&gt;pod&lt;/b&gt;")

	res, js := get(t, p, "/history.json")
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	assert.NotContains(t, js, "hunter2")
	var doc jsonDoc
	require.NoError(t, json.Unmarshal([]byte(js), &doc))
	db := findEntry(t, doc, "readiness", "db")
	assert.Equal(t, "<script>alert(1)</script> \"><img src=x onerror=alert(2)> dial postgres://app:xxxxx@db:5432/x password=xxxxx", db.Reason)

	srv := serve(t, p)
	s := openStream(t, srv.Client(), srv.URL+"/events")
	ev := s.waitFor(t, "db", 5*time.Second)
	assert.NotContains(t, ev, "<script>alert")
	assert.NotContains(t, ev, "hunter2")
	assert.Contains(t, ev, "&lt;script&gt;alert(1)")
	s.close()
}

// TestReasonsOnlyWithDetails: at AccessStatus no reason appears anywhere,
// in the page, the JSON or the stream, past or present.
func TestReasonsOnlyWithDetails(t *testing.T) {
	reg := hostileRegistry(t)
	p := newPage(t, reg, Options{Authorize: allow(AccessStatus)})
	_, body := get(t, p, "/")
	_, js := get(t, p, "/history.json")
	srv := serve(t, p)
	s := openStream(t, srv.Client(), srv.URL+"/events")
	ev := s.waitFor(t, "db", 5*time.Second)
	s.close()
	for what, text := range map[string]string{"page": body, "json": js, "stream": ev} {
		for _, secret := range []string{"alert", "postgres://", "onerror", "reason unavailable", "xxxxx"} {
			assert.NotContains(t, text, secret, what)
		}
	}
	assert.Contains(t, rowOf(t, body, "db"), "withheld")
	var doc jsonDoc
	require.NoError(t, json.Unmarshal([]byte(js), &doc))
	assert.False(t, doc.Details)
	assert.Empty(t, findEntry(t, doc, "readiness", "db").Reason)
}

func TestReasonClipped(t *testing.T) {
	long := strings.Repeat("é", 200) + "\n\t tail"
	got := reasonOf(long)
	assert.LessOrEqual(t, len(got), maxReason+len("…"))
	assert.True(t, strings.HasSuffix(got, "…"))
	assert.NotContains(t, got, "\n")
	assert.Equal(t, "a b c", reasonOf("a\n\n b\r\x00c"))
	assert.Equal(t, "", reasonOf(""))
}

func findEntry(t *testing.T, doc jsonDoc, group, name string) jsonEntry {
	t.Helper()
	for _, g := range doc.Groups {
		if g.Group != group {
			continue
		}
		for _, e := range g.Entries {
			if e.Name == name {
				return e
			}
		}
	}
	t.Fatalf("no entry %s/%s in the JSON", group, name)
	return jsonEntry{}
}
