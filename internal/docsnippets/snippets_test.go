package docsnippets

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// root is the repository's top directory, from this package's.
const root = "../.."

// snippet is a fenced Go block of a Markdown file.
type snippet struct {
	file  string
	line  int
	lines []string // trimmed, blank lines dropped
}

// snippets returns the ```go blocks of the Markdown file at path.
func snippets(t *testing.T, path string) []snippet {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []snippet
	var cur *snippet
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```go"):
			cur = &snippet{file: path, line: i + 1}
		case cur != nil && trimmed == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil && trimmed != "":
			cur.lines = append(cur.lines, trimmed)
		}
	}
	return out
}

// goLines returns the trimmed, non-blank lines of every Go file under dir,
// one slice per file, skipping what git does not track in a work tree of
// this kind (testdata, vendor).
func goLines(t *testing.T, dir string) map[string][]string {
	t.Helper()
	files := make(map[string][]string)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "vendor" || strings.HasPrefix(d.Name(), ".")) && path != dir {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var lines []string
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		files[path] = lines
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// markdown returns the documentation files whose Go snippets must compile.
func markdown(t *testing.T) []string {
	t.Helper()
	paths := []string{filepath.Join(root, "README.md")}
	for _, pattern := range []string{"docs/*.md", "*/README.md", "examples/*/README.md"} {
		more, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, more...)
	}
	return paths
}

// TestGoSnippetsAreCompiled checks that every Go snippet of the docs is a
// run of consecutive lines of some Go file (ignoring indentation and blank
// lines), so that a snippet that stops compiling fails the build, and one
// that drifts from the code fails here.
func TestGoSnippetsAreCompiled(t *testing.T) {
	files := goLines(t, root)
	total := 0
	for _, md := range markdown(t) {
		for _, s := range snippets(t, md) {
			total++
			if len(s.lines) == 0 {
				continue
			}
			if where := find(files, s.lines); where == "" {
				rel, _ := filepath.Rel(root, s.file)
				t.Errorf("%s:%d: this Go snippet is in no Go file of the repository; keep it, verbatim, in an Example or a test:\n\t%s",
					rel, s.line, strings.Join(s.lines, "\n\t"))
			}
		}
	}
	if total == 0 {
		t.Fatal("no Go snippets found: is the repository layout what this test expects?")
	}
}

// find returns a file holding lines consecutively, or "".
func find(files map[string][]string, lines []string) string {
	for path, have := range files {
		for i := range have {
			if len(have)-i >= len(lines) && slices.Equal(have[i:i+len(lines)], lines) {
				return path
			}
		}
	}
	return ""
}

// The checker must catch a snippet that no file holds, and find one that
// is there.
func TestFindIsStrict(t *testing.T) {
	files := map[string][]string{"a.go": {"x := 1", "y := 2", "z := 3"}}
	if find(files, []string{"y := 2", "z := 3"}) == "" {
		t.Error("a run of lines that is there was not found")
	}
	if find(files, []string{"x := 1", "z := 3"}) != "" {
		t.Error("lines that are not consecutive were found")
	}
	if find(files, []string{"z := 3", "w := 4"}) != "" {
		t.Error("a run that runs past the end was found")
	}
}
