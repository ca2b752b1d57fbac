// Package benchtable turns the benchmark output of a run (Go benchmark
// format, as go test and the loopback benchmark print it) into the
// Markdown tables of benchmarks/README.md: the machine and the command,
// in-process and loopback figures side by side per library, and the goals
// of the issue with whether this run meets them.
package benchtable

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// A File is one parsed results file.
type File struct {
	Name   string
	Config map[string]string // the file's "key: value" lines, as of its first result
	Series []*Series         // in order of first appearance
}

// A Series is every sample of one benchmark in a file, such as all -count
// runs of Readiness/checks=10/kind=instant/mode=on-request/lib=probekit.
type Series struct {
	Base   string               // "Readiness" or "Loopback"
	Keys   map[string]string    // the name's key=value parts: checks, kind, mode, lib
	Values map[string][]float64 // unit as printed ("ns/op", "req/s") to samples
}

// Median returns the median sample of unit, and false if there is none.
func (s *Series) Median(unit string) (float64, bool) {
	v := slices.Clone(s.Values[unit])
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2, true
	}
	return v[len(v)/2], true
}

// Range returns the smallest and largest samples of unit, and false if
// there is none.
func (s *Series) Range(unit string) (lo, hi float64, ok bool) {
	v := s.Values[unit]
	if len(v) == 0 {
		return 0, 0, false
	}
	return slices.Min(v), slices.Max(v), true
}

// Samples returns the number of samples of unit.
func (s *Series) Samples(unit string) int { return len(s.Values[unit]) }

// Read parses one results file. Lines that are neither results nor
// configuration (PASS, ok, progress) are ignored, as benchstat ignores
// them; a malformed result line, or a result whose name part is not
// key=value, is an error naming the file and line.
func Read(r io.Reader, name string) (*File, error) {
	f := &File{Name: name, Config: map[string]string{}}
	index := map[string]*Series{}
	br := benchfmt.NewReader(r, name)
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, rec
		case *benchfmt.Result:
			if len(f.Series) == 0 {
				for _, c := range rec.Config {
					if c.File {
						f.Config[c.Key] = string(c.Value)
					}
				}
			}
			full := string(rec.Name.Full())
			s := index[full]
			if s == nil {
				var err error
				if s, err = newSeries(rec); err != nil {
					file, line := rec.Pos()
					return nil, fmt.Errorf("%s:%d: %w", file, line, err)
				}
				index[full] = s
				f.Series = append(f.Series, s)
			}
			for _, v := range rec.Values {
				unit, value := v.Unit, v.Value
				if v.OrigUnit != "" { // the reader tidies ns/op into sec/op; keep what was printed
					unit, value = v.OrigUnit, v.OrigValue
				}
				s.Values[unit] = append(s.Values[unit], value)
			}
		}
	}
	if err := br.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

func newSeries(rec *benchfmt.Result) (*Series, error) {
	base, parts := rec.Name.Parts()
	s := &Series{Base: string(base), Keys: map[string]string{}, Values: map[string][]float64{}}
	for _, p := range parts {
		part := string(p)
		if strings.HasPrefix(part, "-") { // GOMAXPROCS
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(part, "/"), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("benchmark %s: name part %q is not key=value", rec.Name, part)
		}
		s.Keys[k] = v
	}
	return s, nil
}

// find returns the series of base whose keys include every key of want.
func (f *File) find(base string, want map[string]string) *Series {
	for _, s := range f.Series {
		if s.Base != base {
			continue
		}
		match := true
		for k, v := range want {
			if s.Keys[k] != v {
				match = false
				break
			}
		}
		if match {
			return s
		}
	}
	return nil
}
