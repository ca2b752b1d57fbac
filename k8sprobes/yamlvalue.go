package k8sprobes

import (
	"fmt"
	"math"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Limits on what one document may expand to, so that hostile input (an
// alias bomb, absurd nesting) is refused quickly instead of exhausting
// memory or the stack.
const (
	maxNodes = 1 << 20
	maxDepth = 200
)

// valueError is a problem in a document, at a line.
type valueError struct {
	line int
	msg  string
}

func (e *valueError) Error() string { return e.msg }

// toValue converts a YAML node to the value encoding/json would decode
// from the same document in JSON form (map[string]any, []any, string,
// int64, float64, bool, nil), as kubectl does: mapping keys become
// strings, aliases and merge keys (<<) are expanded, and a key given twice
// in one mapping is an error.
func toValue(n *yaml.Node) (any, error) {
	budget := maxNodes
	return convert(n, 0, &budget)
}

func convert(n *yaml.Node, depth int, budget *int) (any, error) {
	*budget--
	if *budget < 0 {
		return nil, &valueError{n.Line, "document expands to too many nodes (aliases?)"}
	}
	if depth > maxDepth {
		return nil, &valueError{n.Line, "document nested too deep"}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return convert(n.Content[0], depth+1, budget)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, &valueError{n.Line, "unknown alias"}
		}
		return convert(n.Alias, depth+1, budget)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c, depth+1, budget)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return convertMapping(n, depth, budget)
	case yaml.ScalarNode:
		return scalar(n), nil
	}
	return nil, &valueError{n.Line, fmt.Sprintf("unexpected YAML node kind %d", n.Kind)}
}

func convertMapping(n *yaml.Node, depth int, budget *int) (any, error) {
	out := make(map[string]any, len(n.Content)/2)
	lines := make(map[string]int, len(n.Content)/2)
	var merged []map[string]any // from << keys, lower precedence
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, &valueError{k.Line, "a mapping key must be a scalar"}
		}
		if k.ShortTag() == "!!merge" {
			m, err := convert(v, depth+1, budget)
			if err != nil {
				return nil, err
			}
			switch m := m.(type) {
			case map[string]any:
				merged = append(merged, m)
			case []any:
				for _, e := range m {
					em, ok := e.(map[string]any)
					if !ok {
						return nil, &valueError{v.Line, "a merge key (<<) takes a mapping or a list of mappings"}
					}
					merged = append(merged, em)
				}
			default:
				return nil, &valueError{v.Line, "a merge key (<<) takes a mapping or a list of mappings"}
			}
			continue
		}
		key := k.Value
		if first, dup := lines[key]; dup {
			return nil, &valueError{k.Line, fmt.Sprintf("key %q given twice in one mapping (first at line %d)", key, first)}
		}
		lines[key] = k.Line
		val, err := convert(v, depth+1, budget)
		if err != nil {
			return nil, err
		}
		out[key] = val
	}
	for _, m := range merged {
		for k, v := range m {
			if _, set := out[k]; !set {
				out[k] = v
			}
		}
	}
	return out, nil
}

// scalar decodes a scalar as YAML 1.2 (the core schema yaml.v3 uses):
// null, bool, int, float or string. A number out of range of int64, and
// a non-finite float, which JSON cannot carry, are kept as strings, so
// that decoding them into a typed field fails with a type error.
func scalar(n *yaml.Node) any {
	var v any
	if err := n.Decode(&v); err != nil {
		return n.Value
	}
	switch x := v.(type) {
	case int:
		return int64(x)
	case uint64:
		if x > math.MaxInt64 {
			return strconv.FormatUint(x, 10)
		}
		return int64(x)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return n.Value
		}
	case nil, bool, string, int64:
	default:
		return n.Value // timestamps and other tagged values: as written
	}
	return v
}

// resolve follows aliases to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

// lineAt returns the line of the node at path under n: each element is a
// mapping key (string) or a sequence index (int). Where the path leaves
// the document (a setting left out), it returns the line of the deepest
// node found, so that a finding about a missing setting points at what
// should hold it. For a mapping entry the key's line is returned.
func lineAt(n *yaml.Node, path ...any) int {
	if n == nil {
		return 0
	}
	line := n.Line
	for _, p := range path {
		n = resolve(n)
		switch p := p.(type) {
		case string:
			next := mappingValue(n, p)
			if next == nil {
				return line
			}
			line, n = next[0].Line, next[1]
		case int:
			if n.Kind != yaml.SequenceNode || p < 0 || p >= len(n.Content) {
				return line
			}
			n = n.Content[p]
			line = n.Line
		}
	}
	return line
}

// mappingValue returns the key and value nodes of key in mapping n, or nil.
func mappingValue(n *yaml.Node, key string) []*yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if resolve(n.Content[i]).Value == key {
			return n.Content[i : i+2]
		}
	}
	return nil
}

// scalarAt returns the value of the scalar at key in mapping n, or "".
func scalarAt(n *yaml.Node, key string) string {
	kv := mappingValue(n, key)
	if kv == nil {
		return ""
	}
	if v := resolve(kv[1]); v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// nodeAt returns the node at path under n (as lineAt walks it), or nil.
func nodeAt(n *yaml.Node, path ...any) *yaml.Node {
	for _, p := range path {
		n = resolve(n)
		switch p := p.(type) {
		case string:
			kv := mappingValue(n, p)
			if kv == nil {
				return nil
			}
			n = kv[1]
		case int:
			if n == nil || n.Kind != yaml.SequenceNode || p < 0 || p >= len(n.Content) {
				return nil
			}
			n = n.Content[p]
		}
	}
	return n
}
