package benchtable

import (
	"bytes"
	"fmt"
)

// The markers between which Splice puts the generated tables.
const (
	BeginMarker = "<!-- benchtable:begin -->"
	EndMarker   = "<!-- benchtable:end -->"
)

// Splice returns doc with everything between BeginMarker and EndMarker
// (each alone on a line) replaced by generated. It is an error for doc to
// lack either marker, to hold one more than once, or to hold them out of
// order: the README is then left for a person to fix.
func Splice(doc, generated []byte) ([]byte, error) {
	begin, end := []byte(BeginMarker+"\n"), []byte("\n"+EndMarker)
	if n, m := bytes.Count(doc, begin), bytes.Count(doc, end); n != 1 || m != 1 {
		return nil, fmt.Errorf("benchtable: want one %q line and one %q line, found %d and %d", BeginMarker, EndMarker, n, m)
	}
	i, j := bytes.Index(doc, begin)+len(begin), bytes.Index(doc, end)
	if j < i-1 {
		return nil, fmt.Errorf("benchtable: %q comes before %q", EndMarker, BeginMarker)
	}
	var out bytes.Buffer
	out.Write(doc[:i])
	out.Write(bytes.TrimRight(generated, "\n"))
	out.Write(doc[max(j, i-1):])
	return out.Bytes(), nil
}
