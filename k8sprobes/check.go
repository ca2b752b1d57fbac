package k8sprobes

import (
	"testing"

	"github.com/probekit/probekit/contract"
)

// Check lints manifest files against the application's contract c in a
// test: every error-level finding fails t (t.Errorf, one line each, as
// probelint prints it), and warnings and infos are logged (t.Log). A file
// that cannot be read or parsed, an invalid contract, or files that hold
// no workload at all fail t at once (t.Fatal). It returns the findings,
// for assertions of your own.
//
// Get c from your registry as your application builds it (reg.Contract(),
// with the ports and shutdown budget it adds), so that the test fails when
// the code and the manifest drift apart:
//
//	func TestManifest(t *testing.T) {
//		k8sprobes.Check(t, app.NewRegistry().Contract(), "deploy/app.yaml")
//	}
func Check(t testing.TB, c contract.Contract, files ...string) []Finding {
	t.Helper()
	return Linter{Contract: &c}.Check(t, files...)
}

// Check is the package's Check with l's settings: its Container, and its
// Contract (nil: the generic rules only).
func (l Linter) Check(t testing.TB, files ...string) []Finding {
	t.Helper()
	if len(files) == 0 {
		t.Fatal("k8sprobes: Check needs at least one manifest file")
	}
	var ms []Manifest
	for _, f := range files {
		found, err := ParseFile(f)
		if err != nil {
			t.Fatalf("k8sprobes: %v", err)
		}
		ms = append(ms, found...)
	}
	workloads := 0
	for i := range ms {
		if _, ok := podOf(&ms[i]); ok {
			workloads++
		}
	}
	if workloads == 0 {
		t.Fatalf("k8sprobes: no workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod, PodTemplate) in %v", files)
	}
	fs, err := l.Lint(ms...)
	if err != nil {
		t.Fatalf("k8sprobes: %v", err)
	}
	for _, f := range fs {
		if f.Severity >= Error {
			t.Errorf("%s", f)
		} else {
			t.Logf("%s", f)
		}
	}
	return fs
}
