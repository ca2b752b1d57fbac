package k8sprobes

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

var shells = []string{"sh", "bash", "ash", "dash", "zsh", "ksh"}

// shellScript returns the script of a "sh -c SCRIPT" command, and whether
// the shell exits at the first failing command (-e, -o errexit).
func shellScript(cmd []string) (script string, errexit, ok bool) {
	if len(cmd) < 2 || !slices.Contains(shells, path.Base(cmd[0])) {
		return "", false, false
	}
	for i := 1; i < len(cmd); i++ {
		a := cmd[i]
		switch {
		case a == "-o" && i+1 < len(cmd):
			i++
			errexit = errexit || cmd[i] == "errexit"
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--"):
			errexit = errexit || strings.Contains(a, "e")
			if strings.Contains(a, "c") && i+1 < len(cmd) {
				return cmd[i+1], errexit, true
			}
		default:
			return "", false, false // a script file: unknown
		}
	}
	return "", false, false
}

var (
	// scriptCanFail matches what lets a script exit non-zero before its
	// last line: an explicit non-zero exit or return, or errexit.
	scriptCanFail = regexp.MustCompile(`\b(exit|return)\s+([1-9]|\$)|\bset\s+-[a-z]*e|\berrexit\b`)
	// scriptAlwaysZero matches a script whose last command always
	// succeeds: "true", ":" or "exit 0", alone or after ||, ; or a newline.
	scriptAlwaysZero = regexp.MustCompile(`(^|\|\||;|\n)\s*(true|:|exit\s+0)\s*;?\s*$`)
)

// cannotFail reports whether an exec probe's command exits 0 whatever
// happens: true, or a shell script that ends in "|| true", "; exit 0" and
// the like with nothing before that can end it non-zero.
func cannotFail(cmd []string) bool {
	if len(cmd) == 1 {
		return slices.Contains([]string{"true", ":"}, path.Base(cmd[0]))
	}
	script, errexit, ok := shellScript(cmd)
	if !ok || errexit || scriptCanFail.MatchString(script) {
		return false
	}
	return scriptAlwaysZero.MatchString(strings.TrimSpace(script))
}

var clientTool = regexp.MustCompile(`\b(curl|wget|nc|grpc_health_probe)\b`)

// complexExec says what makes an exec probe more complex than the httpGet,
// tcpSocket or grpc probe it stands for (an HTTP, TCP or gRPC client,
// directly or through a shell), or "".
func complexExec(cmd []string) string {
	if len(cmd) == 0 {
		return ""
	}
	if script, _, ok := shellScript(cmd); ok {
		if m := clientTool.FindString(script); m != "" {
			return "runs " + m + " through a shell"
		}
		return "" // the app's own tool (redis-cli ping...): no probe says it better
	}
	if m := path.Base(cmd[0]); clientTool.MatchString(m) && clientTool.FindString(m) == m {
		return "runs " + m
	}
	return ""
}
