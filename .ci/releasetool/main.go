// Command releasetool serves .ci/installtest: it reads the public modules'
// go.mod files as a release sees them, and builds a file-system module proxy
// (GOPROXY=file://DIR) that serves them from the working tree at one version,
// zipped as the module proxies zip them (golang.org/x/mod/zip).
//
//	releasetool check [-version V] [-work FILE] GOMOD...
//	releasetool packages MODDIR
//	releasetool proxy -version V -out DIR MODDIR...
//
// check verifies that no go.mod has a replace directive, that every
// requirement on a module of this repository (github.com/probekit/probekit
// and the paths under it) is at one version, V when given, and that the
// go.work file, when given, replaces each of those requirements at that
// version with a directory; it prints the version.
//
// packages prints the module's packages that a user can import ("lib PATH":
// not internal, not main, not test-only) or install ("cmd PATH": main
// packages, not internal).
//
// proxy writes, for each module, DIR/<escaped path>/@v/{list,V.info,V.mod,V.zip}.
// A module's files are the ones git lists in its directory, tracked or not
// but not ignored, that exist in the working tree (so uncommitted work is
// included, as in a release cut from this tree); files of nested modules are
// left out, as in any module zip.
//
// It is a module of its own (with golang.org/x/mod), outside go.work and the
// root module, so that neither requires x/mod.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

// repoPath is the root module's path; every module of the repository has
// it as a prefix.
const repoPath = "github.com/probekit/probekit"

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "check":
		err = check(args)
	case "packages":
		err = packages(args)
	case "proxy":
		err = proxy(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "releasetool:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: releasetool check [-version V] [-work FILE] GOMOD...\n       releasetool packages MODDIR\n       releasetool proxy -version V -out DIR MODDIR...")
	os.Exit(2)
}

func inRepo(p string) bool { return p == repoPath || strings.HasPrefix(p, repoPath+"/") }

func check(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	version := fs.String("version", "", "the version every requirement must be at (default: the one they agree on)")
	work := fs.String("work", "", "a go.work file whose replace lines must cover the requirements")
	fs.Parse(args)
	if fs.NArg() == 0 {
		usage()
	}
	var problems []string
	versions := map[string][]string{} // version -> "file: path"
	required := map[string]bool{}     // module paths of this repository that are required
	for _, name := range fs.Args() {
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		f, err := modfile.Parse(name, data, nil)
		if err != nil {
			return err
		}
		for _, r := range f.Replace {
			problems = append(problems, fmt.Sprintf("%s:%d: replace %s: a replace binds no user of the module; use go.work for development", name, r.Syntax.Start.Line, r.Old.Path))
		}
		for _, r := range f.Require {
			if !inRepo(r.Mod.Path) {
				continue
			}
			required[r.Mod.Path] = true
			versions[r.Mod.Version] = append(versions[r.Mod.Version], fmt.Sprintf("%s:%d: %s", name, r.Syntax.Start.Line, r.Mod.Path))
		}
	}
	v := *version
	if v == "" {
		if len(versions) != 1 {
			for ver, where := range versions {
				problems = append(problems, fmt.Sprintf("requirements at %s: %s", ver, strings.Join(where, ", ")))
			}
			if len(versions) == 0 {
				problems = append(problems, "no go.mod requires a module of "+repoPath+": give -version")
			} else {
				problems = append(problems, "the modules of "+repoPath+" must require each other at one version")
			}
		}
		for ver := range versions {
			v = ver
		}
	}
	if v != "" && (!semver.IsValid(v) || semver.Canonical(v) != v || v == "v0.0.0" || module.IsPseudoVersion(v)) {
		problems = append(problems, fmt.Sprintf("version %q is not a release version", v))
	}
	for ver, where := range versions {
		if ver != v && *version != "" {
			problems = append(problems, fmt.Sprintf("requirements at %s, not %s: %s", ver, v, strings.Join(where, ", ")))
		}
	}
	if *work != "" {
		data, err := os.ReadFile(*work)
		if err != nil {
			return err
		}
		wf, err := modfile.ParseWork(*work, data, nil)
		if err != nil {
			return err
		}
		replaced := map[string]bool{}
		for _, r := range wf.Replace {
			if !inRepo(r.Old.Path) {
				continue
			}
			if r.Old.Version != v {
				problems = append(problems, fmt.Sprintf("%s:%d: replace %s %s: not at %s", *work, r.Syntax.Start.Line, r.Old.Path, r.Old.Version, v))
				continue
			}
			replaced[r.Old.Path] = true
		}
		for p := range required {
			if !replaced[p] {
				problems = append(problems, fmt.Sprintf("%s: no replace %s %s => <its directory>: in workspace mode Go would fetch that version's go.mod from the proxy", *work, p, v))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New("\n\t" + strings.Join(problems, "\n\t"))
	}
	fmt.Println(v)
	return nil
}

// file is a file of a module's directory, for zip.Create.
type file struct {
	rel  string // slash-separated, relative to the module's directory
	abs  string
	info os.FileInfo
}

func (f file) Path() string                 { return f.rel }
func (f file) Lstat() (os.FileInfo, error)  { return f.info, nil }
func (f file) Open() (io.ReadCloser, error) { return os.Open(f.abs) }

// moduleFiles returns the files git lists in dir (tracked, or untracked and
// not ignored) that exist, and the module's path from dir/go.mod.
func moduleFiles(dir string) (string, []zip.File, error) {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", nil, err
	}
	modPath := modfile.ModulePath(data)
	if modPath == "" {
		return "", nil, fmt.Errorf("%s/go.mod: no module path", dir)
	}
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("git ls-files in %s: %v", dir, err)
	}
	seen := map[string]bool{}
	var files []zip.File
	for _, rel := range strings.Split(string(out), "\x00") {
		if rel == "" || seen[rel] {
			continue
		}
		seen[rel] = true
		abs := filepath.Join(dir, filepath.FromSlash(rel))
		info, err := os.Lstat(abs)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree, not yet in the index
		}
		if err != nil {
			return "", nil, err
		}
		files = append(files, file{rel: rel, abs: abs, info: info})
	}
	return modPath, files, nil
}

func packages(args []string) error {
	if len(args) != 1 {
		usage()
	}
	modPath, files, err := moduleFiles(args[0])
	if err != nil {
		return err
	}
	checked, err := zip.CheckFiles(files)
	if err != nil {
		return err
	}
	valid := map[string]bool{}
	for _, p := range checked.Valid {
		valid[p] = true
	}
	names := map[string]string{} // directory -> package name
	for _, f := range files {
		rel := f.Path()
		dir, base := path.Split(rel)
		dir = strings.TrimSuffix(dir, "/")
		if !valid[rel] || !strings.HasSuffix(base, ".go") || strings.HasSuffix(base, "_test.go") ||
			strings.HasPrefix(base, "_") || strings.HasPrefix(base, ".") {
			continue
		}
		if skipDir(dir) {
			continue
		}
		pf, err := parser.ParseFile(token.NewFileSet(), f.(file).abs, nil, parser.PackageClauseOnly)
		if err != nil {
			return err
		}
		names[dir] = pf.Name.Name
	}
	var lines []string
	for dir, name := range names {
		kind := "lib"
		if name == "main" {
			kind = "cmd"
		}
		p := modPath
		if dir != "" {
			p += "/" + dir
		}
		lines = append(lines, kind+" "+p)
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	return nil
}

// skipDir reports whether the go command ignores packages in dir, or a user
// cannot import them (internal).
func skipDir(dir string) bool {
	if dir == "" {
		return false
	}
	for _, elem := range strings.Split(dir, "/") {
		if elem == "testdata" || elem == "internal" || elem == "vendor" || strings.HasPrefix(elem, ".") || strings.HasPrefix(elem, "_") {
			return true
		}
	}
	return false
}

func proxy(args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ExitOnError)
	version := fs.String("version", "", "the version of every module")
	out := fs.String("out", "", "the proxy's directory")
	fs.Parse(args)
	if *version == "" || *out == "" || fs.NArg() == 0 {
		usage()
	}
	if !semver.IsValid(*version) {
		return fmt.Errorf("%q is not a semantic version", *version)
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{*version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	for _, dir := range fs.Args() {
		modPath, files, err := moduleFiles(dir)
		if err != nil {
			return err
		}
		mv := module.Version{Path: modPath, Version: *version}
		if err := module.Check(mv.Path, mv.Version); err != nil {
			return err
		}
		checked, err := zip.CheckFiles(files)
		if err != nil {
			return err
		}
		if err := checked.Err(); err != nil {
			return fmt.Errorf("%s: %v", modPath, err)
		}
		escaped, err := module.EscapePath(modPath)
		if err != nil {
			return err
		}
		vdir := filepath.Join(*out, filepath.FromSlash(escaped), "@v")
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			return err
		}
		var zipData bytes.Buffer
		if err := zip.Create(&zipData, mv, files); err != nil {
			return fmt.Errorf("%s: %v", modPath, err)
		}
		gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err != nil {
			return err
		}
		zipFile := filepath.Join(vdir, *version+".zip")
		for name, data := range map[string][]byte{
			"list":             []byte(*version + "\n"),
			*version + ".info": info,
			*version + ".mod":  gomod,
			*version + ".zip":  zipData.Bytes(),
		} {
			if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
				return err
			}
		}
		h1, err := dirhash.HashZip(zipFile, dirhash.Hash1)
		if err != nil {
			return err
		}
		fmt.Printf("%s@%s: %d files (%d left out: nested modules, vendor), %d bytes zipped, %s\n",
			modPath, *version, len(checked.Valid), len(checked.Omitted), zipData.Len(), h1)
	}
	return nil
}
