package k8sprobes

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records what Check says; Fatal stops the
// call as it does in a test (here by a panic that run recovers).
type recorder struct {
	testing.TB // nil: only the methods below may be called
	errors     []string
	logs       []string
	fatal      string
}

type stop struct{}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}
func (r *recorder) Logf(format string, a ...any) { r.logs = append(r.logs, fmt.Sprintf(format, a...)) }
func (r *recorder) Fatal(a ...any)               { r.fatal = fmt.Sprint(a...); panic(stop{}) }
func (r *recorder) Fatalf(format string, a ...any) {
	r.fatal = fmt.Sprintf(format, a...)
	panic(stop{})
}

func (r *recorder) run(fn func()) {
	defer func() {
		if v := recover(); v != nil && v != (stop{}) {
			panic(v)
		}
	}()
	fn()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// TestCheck: error-level findings fail the test, one line each; warnings
// are logged.
func TestCheck(t *testing.T) {
	bad := writeFile(t, "bad.yaml", deployment(goodExtra,
		mods(liveLine, l("livenessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3}"),
			readyLine, l("readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3}")), true))
	var r recorder
	var fs []Finding
	r.run(func() { fs = Check(&r, *testContract(), bad) })
	assert.Empty(t, r.fatal)
	require.Len(t, r.errors, 1, "%v", r.errors)
	assert.Contains(t, r.errors[0], "bad.yaml:15: error PK011 Deployment/shop/app app liveness:")
	assert.Len(t, fs, 1)

	// Without the contract the same manifest only warns: logged, no failure.
	r = recorder{}
	r.run(func() { fs = Linter{}.Check(&r, bad) })
	assert.Empty(t, r.errors)
	require.NotEmpty(t, r.logs)
	assert.Len(t, fs, len(r.logs))

	good := writeFile(t, "good.yaml", deployment(goodExtra, goodContainer, true))
	r = recorder{}
	r.run(func() { fs = Check(&r, *testContract(), good) })
	assert.Empty(t, r.errors)
	assert.Empty(t, r.logs)
	assert.Empty(t, r.fatal)
	assert.Empty(t, fs)
}

func TestCheckFatal(t *testing.T) {
	noWorkload := writeFile(t, "svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
	broken := writeFile(t, "broken.yaml", "a: [\n")
	good := writeFile(t, "good.yaml", deployment(goodExtra, goodContainer, true))
	for name, tc := range map[string]struct {
		call func(testing.TB)
		want string
	}{
		"no files":        {func(tb testing.TB) { Check(tb, *testContract()) }, "at least one manifest"},
		"no workload":     {func(tb testing.TB) { Check(tb, *testContract(), noWorkload) }, "no workload"},
		"unparsable":      {func(tb testing.TB) { Check(tb, *testContract(), broken) }, "broken.yaml:2: yaml:"},
		"missing file":    {func(tb testing.TB) { Check(tb, *testContract(), broken+".gone") }, "no such file"},
		"invalid":         {func(tb testing.TB) { Check(tb, *testContract(), good, good) }, ""},
		"bad contract":    {func(tb testing.TB) { c := *testContract(); c.Version = 0; Check(tb, c, good) }, "version 0"},
		"wrong container": {func(tb testing.TB) { Linter{Container: "x"}.Check(tb, good) }, `no container named "x"`},
	} {
		t.Run(name, func(t *testing.T) {
			var r recorder
			r.run(func() { tc.call(&r) })
			if tc.want == "" { // the same file twice is fine
				assert.Empty(t, r.fatal)
				return
			}
			assert.Contains(t, r.fatal, tc.want)
		})
	}
}
