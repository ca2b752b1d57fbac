// Command probelint lints the probes and shutdown settings of Kubernetes
// manifests, against the application's probekit contract when given one,
// and generates probes from a contract.
//
// Usage:
//
//	probelint [-contract FILE] [-container NAME] [-format text|json] MANIFEST... | -
//	probelint -contract FILE -generate [-port NAME|NUMBER] [-grpc] [-container NAME]
//
// It reads every YAML document of the manifests ("-" for standard input:
// helm template, kustomize build and kubectl get -o yaml output all work),
// lints each container of the Deployments, StatefulSets, DaemonSets,
// ReplicaSets, Jobs, CronJobs, Pods and PodTemplates among them (Services
// tell which pods take traffic; other kinds are skipped), and prints one
// finding per line:
//
//	file:line: severity RULE Kind/[namespace/]name container probe: message (fix: ...)
//
// or, with -format json, a JSON array of objects with the fields rule,
// ruleName, severity, file, line, kind, namespace, name, container, probe,
// mistake, message and fix.
//
// Exit status: 0 when no finding is an error, 1 when one is, 2 for bad
// arguments, an unreadable or unparsable file (reported as file:line), an
// invalid contract, or -h: only a clean lint exits 0, so that a stray -h in
// CI cannot pass. probelint -h lists the flags and the rules.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/k8sprobes"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitClean    = 0
	exitFindings = 1
	exitUsage    = 2
)

const usageHead = `usage: probelint [-contract FILE] [-container NAME] [-format text|json] MANIFEST... | -
       probelint -contract FILE -generate [-port NAME|NUMBER] [-grpc] [-container NAME]

Lints the probes and shutdown settings of Kubernetes manifests ("-" reads
standard input), with the app's contract (its JSON form, as the app prints
it) when given, with the generic rules alone otherwise. With -generate,
prints the probes, preStop and terminationGracePeriodSeconds the contract
calls for, as YAML to merge into a pod template's spec.

Exit status: 0 if no finding is an error, 1 if one is, 2 for bad arguments,
an unreadable or unparsable file (with its file:line), an invalid contract,
or -h (only a clean lint exits 0, so a stray -h in CI cannot pass).

flags:
`

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, usageHead)
	fs.PrintDefaults()
	fmt.Fprint(w, "\nrules (severity is the most severe each reports; * needs -contract):\n")
	for _, r := range k8sprobes.Rules() {
		star := " "
		if r.Contract {
			star = "*"
		}
		fmt.Fprintf(w, "  %s%s %-24s %-7s %s\n", r.ID, star, r.Name, r.Severity, r.Summary)
	}
}

// run is main without the process: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probelint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(stderr, fs) }
	contractFile := fs.String("contract", "", "the app's contract, a JSON `file` (contract.Contract's JSON form)")
	container := fs.String("container", "", "lint only the containers of this `name` (the contract then applies to them); with -generate, the name to write")
	format := fs.String("format", "text", "output `format`: text (one finding per line) or json (an array)")
	generate := fs.Bool("generate", false, "print the probes the contract calls for instead of linting (needs -contract)")
	port := fs.String("port", "", "with -generate: the container port the probes ask, a `name or number` (default: the contract's)")
	grpc := fs.Bool("grpc", false, "with -generate: grpc probes even if the app also serves HTTP")

	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "probelint: "+format+"\n", a...)
		return exitUsage
	}
	files, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage // flag printed the error and the usage; -h too
	}
	if *format != "text" && *format != "json" {
		return bad("-format %q: want text or json", *format)
	}
	var c *contract.Contract
	if *contractFile != "" {
		data, err := os.ReadFile(*contractFile)
		if err != nil {
			return bad("-contract: %v", err)
		}
		parsed, err := contract.Parse(data)
		if err != nil {
			return bad("-contract %s: %v", *contractFile, err)
		}
		c = &parsed
	}

	if *generate {
		switch {
		case c == nil:
			return bad("-generate needs -contract")
		case len(files) > 0:
			return bad("-generate takes no manifest")
		}
		out, err := k8sprobes.Generate(*c, k8sprobes.GenerateOptions{Port: *port, GRPC: *grpc, Container: *container})
		if err != nil {
			return bad("%v", err)
		}
		fmt.Fprint(stdout, out)
		return exitClean
	}
	if *port != "" || *grpc {
		return bad("-port and -grpc go with -generate")
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "probelint: no manifest given (\"-\" reads standard input)")
		fs.Usage()
		return exitUsage
	}

	ms, err := readAll(files, stdin)
	if err != nil {
		return bad("%v", err)
	}
	findings, err := k8sprobes.Linter{Contract: c, Container: *container}.Lint(ms...)
	if err != nil {
		return bad("%v", err)
	}
	if err := write(stdout, *format, findings); err != nil {
		fmt.Fprintf(stderr, "probelint: %v\n", err)
		return exitUsage
	}
	if *format == "text" {
		fmt.Fprintln(stderr, summary(findings, len(ms), len(files)))
	}
	if k8sprobes.Worst(findings) >= k8sprobes.Error {
		return exitFindings
	}
	return exitClean
}

// parseFlags parses flags anywhere among the arguments ("--" ends them)
// and returns the others, the manifests.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		if len(left) == 0 {
			return files, nil
		}
		if len(left) < len(args) && args[len(args)-len(left)-1] == "--" {
			return append(files, left...), nil
		}
		files = append(files, left[0])
		args = left[1:]
	}
}

// readAll parses every manifest, "-" being standard input (once).
func readAll(files []string, stdin io.Reader) ([]k8sprobes.Manifest, error) {
	var out []k8sprobes.Manifest
	usedStdin := false
	for _, f := range files {
		var ms []k8sprobes.Manifest
		var err error
		if f == "-" {
			if usedStdin {
				return nil, errors.New(`"-" (standard input) given twice`)
			}
			usedStdin = true
			ms, err = k8sprobes.Parse("-", stdin)
		} else {
			ms, err = k8sprobes.ParseFile(f)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

func write(w io.Writer, format string, findings []k8sprobes.Finding) error {
	if format == "json" {
		if findings == nil {
			findings = []k8sprobes.Finding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(findings)
	}
	for _, f := range findings {
		if _, err := fmt.Fprintln(w, f); err != nil {
			return err
		}
	}
	return nil
}

// summary counts the findings by severity, for standard error.
func summary(findings []k8sprobes.Finding, objects, files int) string {
	n := map[k8sprobes.Severity]int{}
	for _, f := range findings {
		n[f.Severity]++
	}
	var parts []string
	for _, s := range []k8sprobes.Severity{k8sprobes.Error, k8sprobes.Warning, k8sprobes.Info} {
		parts = append(parts, plural(n[s], s.String()))
	}
	return fmt.Sprintf("probelint: %s (%s in %s)", strings.Join(parts, ", "), plural(objects, "object"), plural(files, "input"))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
