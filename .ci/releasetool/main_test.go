package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// write creates the files (name -> content) in a new directory and returns
// its path.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	rootMod = "module github.com/probekit/probekit\n\ngo 1.26.0\n"
	workAt  = "go 1.26.0\n\nuse (\n\t.\n\t./grpchealth\n)\n\nreplace github.com/probekit/probekit %s => ./\n"
)

func nestedMod(require string) string {
	return "module github.com/probekit/probekit/grpchealth\n\ngo 1.26.0\n\nrequire github.com/probekit/probekit " + require + "\n"
}

// TestCheck: the go.mod files a release ships are accepted only when they
// bind a user as they bind this repository: no replace, one release
// version, and a go.work that replaces exactly that version.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		nested  string // the nested go.mod's tail after its require line
		version string // -version, if any
		work    string // go.work's version, "" for no -work
		want    string // a part of the error, "" for none
	}{
		{name: "released", nested: nestedMod("v0.15.0"), work: "v0.15.0"},
		{name: "released, version given", nested: nestedMod("v0.15.0"), version: "v0.15.0", work: "v0.15.0"},
		{name: "replace", nested: nestedMod("v0.15.0") + "\nreplace github.com/probekit/probekit => ../\n", want: "a replace binds no user"},
		{name: "v0.0.0", nested: nestedMod("v0.0.0"), want: `version "v0.0.0" is not a release version`},
		{name: "pseudo-version", nested: nestedMod("v0.0.0-20260101000000-abcdefabcdef"), want: "is not a release version"},
		{name: "other version than given", nested: nestedMod("v0.14.0"), version: "v0.15.0", want: "requirements at v0.14.0, not v0.15.0"},
		{name: "go.work at another version", nested: nestedMod("v0.15.0"), work: "v0.14.0", want: "not at v0.15.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"go.mod": rootMod, "grpchealth/go.mod": tc.nested}
			if tc.work != "" {
				files["go.work"] = strings.Replace(workAt, "%s", tc.work, 1)
			}
			dir := write(t, files)
			args := []string{}
			if tc.version != "" {
				args = append(args, "-version", tc.version)
			}
			if tc.work != "" {
				args = append(args, "-work", filepath.Join(dir, "go.work"))
			}
			args = append(args, filepath.Join(dir, "go.mod"), filepath.Join(dir, "grpchealth", "go.mod"))
			err := check(args)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted; want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

// TestCheckNothingRequired: without a requirement between the repository's
// modules there is no version to agree on, and check says to give one.
func TestCheckNothingRequired(t *testing.T) {
	dir := write(t, map[string]string{"go.mod": rootMod})
	err := check([]string{filepath.Join(dir, "go.mod")})
	if err == nil || !strings.Contains(err.Error(), "give -version") {
		t.Fatalf("got %v, want the advice to give -version", err)
	}
}
