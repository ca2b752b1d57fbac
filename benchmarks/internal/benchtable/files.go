package benchtable

import (
	"fmt"
	"os"
	"path/filepath"
)

// ReadFiles reads every named results file (see Read), naming each by its
// slash-separated path.
func ReadFiles(names []string) ([]*File, error) {
	files := make([]*File, 0, len(names))
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		bf, err := Read(f, filepath.ToSlash(name))
		f.Close()
		if err != nil {
			return nil, err
		}
		files = append(files, bf)
	}
	return files, nil
}

// SpliceFile replaces the benchtable section of the file at path with
// generated (see Splice). On error the file is left as it was.
func SpliceFile(path string, generated []byte) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := Splice(doc, generated)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}
