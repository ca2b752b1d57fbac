package k8sprobes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	sigsjson "sigs.k8s.io/json"
)

// Manifest is one Kubernetes object of a kind the linter reads, decoded
// from YAML, with where it came from.
type Manifest struct {
	// File is the name given to Parse (the path, for ParseFile); Line is
	// the line the object starts on (1-based; 0 for a Manifest built in
	// code).
	File string
	Line int
	// APIVersion, Kind, Namespace and Name are the object's; Name is its
	// metadata.generateName if it has no name.
	APIVersion, Kind, Namespace, Name string
	// Object is the decoded object: *appsv1.Deployment, *appsv1.StatefulSet,
	// *appsv1.DaemonSet, *appsv1.ReplicaSet, *batchv1.Job, *batchv1.CronJob,
	// *corev1.Pod, *corev1.PodTemplate or *corev1.Service. A Manifest built
	// in code needs only Object (and Kind and Name, for the findings).
	Object any

	node    *yaml.Node // the object's mapping; nil for one built in code
	unknown []string   // paths of fields the API types do not have
}

// ParseError is YAML that cannot be read, or a document of a known kind
// that does not decode into its API type (a string where a number
// belongs, a key given twice).
type ParseError struct {
	File string
	Line int // 0 if the YAML parser did not say
	Err  error
}

// Error returns "file:line: message" ("file: message" without a line).
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// kinds maps "apiVersion kind" to a new object of the API type.
var kinds = map[string]func() any{
	"apps/v1 Deployment":  func() any { return new(appsv1.Deployment) },
	"apps/v1 StatefulSet": func() any { return new(appsv1.StatefulSet) },
	"apps/v1 DaemonSet":   func() any { return new(appsv1.DaemonSet) },
	"apps/v1 ReplicaSet":  func() any { return new(appsv1.ReplicaSet) },
	"batch/v1 Job":        func() any { return new(batchv1.Job) },
	"batch/v1 CronJob":    func() any { return new(batchv1.CronJob) },
	"v1 Pod":              func() any { return new(corev1.Pod) },
	"v1 PodTemplate":      func() any { return new(corev1.PodTemplate) },
	"v1 Service":          func() any { return new(corev1.Service) },
}

// Parse reads the YAML documents of r (separated by "---", as kubectl,
// helm template and kustomize build write them) and returns the objects
// of the kinds the linter reads, in order: Deployment, StatefulSet,
// DaemonSet, ReplicaSet (apps/v1), Job, CronJob (batch/v1), Pod,
// PodTemplate and Service (v1), also as items of a List (kubectl get -o
// yaml). Documents of other kinds or versions, and documents that are
// not Kubernetes objects, are skipped. name is what findings and errors
// call the input (a path, or "-" for standard input).
//
// A document that is not valid YAML, or an object of a known kind that does
// not decode into its API type, makes Parse return a *ParseError with the
// line, and no manifests. A field the API type does not have is not an
// error: Lint reports it (PK090).
func Parse(name string, r io.Reader) ([]Manifest, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &ParseError{File: name, Err: err}
	}
	return parseBytes(name, data)
}

// ParseFile is Parse of the file at path, named path.
func ParseFile(path string) ([]Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ParseError{File: path, Err: err}
	}
	return parseBytes(path, data)
}

func parseBytes(name string, data []byte) (ms []Manifest, err error) {
	defer func() {
		// The YAML parser is not known to panic, but a linter must report
		// bad input, never crash on it.
		if v := recover(); v != nil {
			ms, err = nil, &ParseError{File: name, Err: fmt.Errorf("yaml: internal error: %v", v)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return ms, nil
		}
		if err != nil {
			return nil, yamlError(name, data, err)
		}
		found, err := objects(name, &doc, 0)
		if err != nil {
			return nil, err
		}
		ms = append(ms, found...)
	}
}

var (
	yamlLine      = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	unknownAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// parserProblems are the problems go.yaml.in/yaml/v3's parser (as
// opposed to its scanner) reports with a 0-based line: that of the
// construct it was parsing.
var parserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected key",
	"did not find expected '-' indicator",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
	"found duplicate %TAG directive",
}

// yamlError turns a YAML parser error into a *ParseError with its
// 1-based line. The parser says no line for a problem on the first line;
// an unknown alias is looked up in data.
func yamlError(name string, data []byte, err error) error {
	pe := &ParseError{File: name, Err: err, Line: 1}
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		pe.Line, _ = strconv.Atoi(m[1])
		if slices.Contains(parserProblems, m[2]) {
			pe.Line++
		}
	} else if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		for i, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, "*"+m[1]) {
				pe.Line = i + 1
				break
			}
		}
	}
	return pe
}

// objects returns the objects of known kinds in n: n itself, or the items
// of a List.
func objects(file string, n *yaml.Node, depth int) ([]Manifest, error) {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, nil
		}
		n = n.Content[0]
	}
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	apiVersion, kind := scalarAt(n, "apiVersion"), scalarAt(n, "kind")
	if strings.HasSuffix(kind, "List") && depth == 0 {
		items := mappingValue(n, "items")
		if items == nil || resolve(items[1]).Kind != yaml.SequenceNode {
			return nil, nil
		}
		var out []Manifest
		for _, item := range resolve(items[1]).Content {
			found, err := objects(file, item, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, found...)
		}
		return out, nil
	}
	newObject := kinds[apiVersion+" "+kind]
	if newObject == nil {
		return nil, nil
	}
	m, err := decode(file, n, newObject())
	if err != nil {
		return nil, err
	}
	m.APIVersion, m.Kind = apiVersion, kind
	return []Manifest{m}, nil
}

// objectMeta is what every API object's embedded ObjectMeta provides.
type objectMeta interface {
	GetName() string
	GetGenerateName() string
	GetNamespace() string
}

// decode decodes mapping n into obj as the API server would: field names
// are case-sensitive and unknown fields are collected, not dropped.
func decode(file string, n *yaml.Node, obj any) (Manifest, error) {
	v, err := toValue(n)
	if err != nil {
		var ve *valueError
		if errors.As(err, &ve) {
			return Manifest{}, &ParseError{File: file, Line: ve.line, Err: err}
		}
		return Manifest{}, &ParseError{File: file, Line: n.Line, Err: err}
	}
	data, err := json.Marshal(v)
	if err != nil { // toValue makes only what JSON can carry
		return Manifest{}, &ParseError{File: file, Line: n.Line, Err: err}
	}
	strict, err := sigsjson.UnmarshalStrict(data, obj, sigsjson.DisallowUnknownFields)
	if err != nil {
		kind, name := scalarAt(n, "kind"), scalarAt(resolve(valueAt(n, "metadata")), "name")
		return Manifest{}, &ParseError{File: file, Line: typeErrorLine(n, err),
			Err: fmt.Errorf("%s %q: %w", kind, name, err)}
	}
	m := Manifest{File: file, Line: n.Line, Object: obj, node: n}
	if meta, ok := obj.(objectMeta); ok {
		m.Name, m.Namespace = cmpOr(meta.GetName(), meta.GetGenerateName()), meta.GetNamespace()
	}
	for _, e := range strict {
		if fp, ok := e.(interface{ FieldPath() string }); ok {
			m.unknown = append(m.unknown, fp.FieldPath())
		}
	}
	return m, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// valueAt returns the value node of key in mapping n, or nil.
func valueAt(n *yaml.Node, key string) *yaml.Node {
	if kv := mappingValue(n, key); kv != nil {
		return kv[1]
	}
	return nil
}

var typeErrorField = regexp.MustCompile(`Go struct field \w+\.(\S+) of type`)

// typeErrorLine finds the line of the field a JSON type error names (its
// path has no list indices: the first match is taken), or n's line.
func typeErrorLine(n *yaml.Node, err error) int {
	m := typeErrorField.FindStringSubmatch(err.Error())
	if m == nil {
		return n.Line
	}
	if line := findPath(n, strings.Split(m[1], "."), 0); line > 0 {
		return line
	}
	return n.Line
}

// findPath returns the line of the first node at keys under n, looking
// into every item of the lists on the way, or 0.
func findPath(n *yaml.Node, keys []string, depth int) int {
	n = resolve(n)
	if len(keys) == 0 || depth > maxDepth {
		return n.Line
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if line := findPath(item, keys, depth+1); line > 0 {
				return line
			}
		}
	case yaml.MappingNode:
		kv := mappingValue(n, keys[0])
		if kv == nil {
			return 0
		}
		if len(keys) == 1 {
			return kv[0].Line
		}
		return findPath(kv[1], keys[1:], depth+1)
	}
	return 0
}

var fieldIndex = regexp.MustCompile(`^([^\[]*)((?:\[\d+\])*)$`)

// fieldPath splits a strict-decoding field path such as
// "spec.containers[0].livenessProbe.x" into lineAt's path elements.
func fieldPath(s string) []any {
	var out []any
	for part := range strings.SplitSeq(s, ".") {
		m := fieldIndex.FindStringSubmatch(part)
		if m == nil {
			out = append(out, part)
			continue
		}
		if m[1] != "" {
			out = append(out, m[1])
		}
		for idx := range strings.SplitSeq(strings.Trim(m[2], "[]"), "][") {
			if i, err := strconv.Atoi(idx); err == nil {
				out = append(out, i)
			}
		}
	}
	return out
}
