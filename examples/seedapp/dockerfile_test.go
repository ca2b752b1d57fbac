package main

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health/healthtest"
)

// No Docker engine runs where these tests run, so the Dockerfile is checked
// by reading it, and the binaries it builds are built here the same way.

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY...
	args string
}

// stage is one FROM and the instructions after it.
type stage struct {
	from, name string
	instrs     []instruction
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// parseDockerfile splits a Dockerfile into stages. It handles comments,
// parser directives, line continuations and "FROM image AS name"; that is
// all this Dockerfile uses.
func parseDockerfile(text string) ([]stage, error) {
	var (
		stages  []stage
		logical []string
		cur     strings.Builder
	)
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() > 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue // comments and blank lines may sit inside a continued instruction
		}
		if body, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(strings.TrimSpace(body) + " ")
			continue
		}
		cur.WriteString(trimmed)
		logical = append(logical, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("unterminated continuation: %q", cur.String())
	}
	for _, l := range logical {
		cmd, args, _ := strings.Cut(l, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			return nil, fmt.Errorf("%s before FROM", in.cmd)
		}
		stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, in)
	}
	return stages, nil
}

// splitWords splits a shell command line into words, honouring quotes and
// backslashes; enough for the go build lines of a Dockerfile.
func splitWords(s string) ([]string, error) {
	var (
		words []string
		w     strings.Builder
		in    bool
		quote rune
	)
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == '"' && c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
		case quote != 0:
			w.WriteRune(c)
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			in = true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteRune(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if in {
		words = append(words, w.String())
	}
	return words, nil
}

// goBuild is a "go build" command of a RUN instruction.
type goBuild struct {
	flags  []string // without -o
	output string   // the -o path
	pkg    string
	env    map[string]string // the stage's ENV at that point
}

// goBuilds finds the go build commands of stage st.
func goBuilds(t *testing.T, st stage) []goBuild {
	t.Helper()
	env := map[string]string{}
	var out []goBuild
	for _, in := range st.instrs {
		switch in.cmd {
		case "ENV":
			for _, kv := range strings.Fields(in.args) {
				k, v, ok := strings.Cut(kv, "=")
				require.True(t, ok, "ENV %s: use the key=value form", in.args)
				env[k] = v
			}
		case "RUN":
			for _, part := range strings.Split(in.args, "&&") {
				words, err := splitWords(strings.TrimSpace(part))
				require.NoError(t, err)
				if len(words) < 2 || words[0] != "go" || words[1] != "build" {
					continue
				}
				b := goBuild{env: env}
				for i := 2; i < len(words); i++ {
					switch {
					case words[i] == "-o" && i+1 < len(words):
						i++
						b.output = words[i]
					case strings.HasPrefix(words[i], "-"):
						b.flags = append(b.flags, words[i])
					default:
						b.pkg = words[i]
					}
				}
				require.NotEmpty(t, b.output, "go build without -o: %s", part)
				require.NotEmpty(t, b.pkg, "go build without a package: %s", part)
				out = append(out, b)
			}
		}
	}
	return out
}

func readDockerfile(t *testing.T) (build, final stage, builds map[string]goBuild) {
	t.Helper()
	text, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	stages, err := parseDockerfile(string(text))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(stages), 2, "multi-stage: build with the Go toolchain, ship only the binaries")
	final = stages[len(stages)-1]
	build = stages[0]
	require.NotEmpty(t, build.name, "the build stage is named, for COPY --from")
	builds = map[string]goBuild{}
	for _, b := range goBuilds(t, build) {
		builds[b.output] = b
	}
	return build, final, builds
}

// copiedFrom returns the path in stage from that COPY --from=from puts at
// dst in st, or "".
func copiedFrom(t *testing.T, st stage, from, dst string) string {
	t.Helper()
	for _, in := range st.all("COPY") {
		f := strings.Fields(in.args)
		if len(f) == 3 && f[0] == "--from="+from && f[2] == dst {
			return f[1]
		}
	}
	return ""
}

// execForm decodes the JSON array of an exec-form instruction.
func execForm(t *testing.T, what, args string) []string {
	t.Helper()
	var argv []string
	require.NoError(t, json.Unmarshal([]byte(args), &argv),
		"%s must be in exec form (a JSON array): the final image has no shell to run a string", what)
	require.NotEmpty(t, argv, what)
	return argv
}

func TestDockerfile(t *testing.T) {
	build, final, builds := readDockerfile(t)

	t.Run("final stage is distroless or scratch", func(t *testing.T) {
		assert.True(t, final.from == "scratch" || strings.HasPrefix(final.from, "gcr.io/distroless/static"),
			"final stage FROM %s", final.from)
	})

	t.Run("runs as a numeric non-root user", func(t *testing.T) {
		users := final.all("USER")
		require.NotEmpty(t, users, "the final stage sets USER")
		user := users[len(users)-1].args
		uid, _, _ := strings.Cut(user, ":")
		n, err := strconv.Atoi(uid)
		require.NoError(t, err, "USER %s: numeric, so that Kubernetes can verify runAsNonRoot", user)
		assert.NotZero(t, n, "USER %s is root", user)
	})

	t.Run("exposes the app's port", func(t *testing.T) {
		fs, cfg := newFlags(nil)
		require.NoError(t, fs.Parse(nil))
		_, port, err := net.SplitHostPort(cfg.addr)
		require.NoError(t, err)
		exposes := final.all("EXPOSE")
		require.Len(t, exposes, 1)
		assert.Equal(t, port, strings.TrimSuffix(exposes[0].args, "/tcp"))
	})

	t.Run("copies the whole module tree", func(t *testing.T) {
		var whole bool
		for _, in := range build.all("COPY") {
			whole = whole || in.args == ". ."
		}
		assert.True(t, whole, "the build context is the repository root, and the examples module needs ../")
	})

	t.Run("builds static binaries", func(t *testing.T) {
		require.NotEmpty(t, builds)
		for out, b := range builds {
			assert.Equal(t, "0", b.env["CGO_ENABLED"], "%s: CGO_ENABLED=0, or the binary needs a libc the image lacks", out)
		}
	})

	t.Run("entrypoint is the seed app", func(t *testing.T) {
		eps := final.all("ENTRYPOINT")
		require.Len(t, eps, 1)
		argv := execForm(t, "ENTRYPOINT", eps[0].args)
		src := copiedFrom(t, final, build.name, argv[0])
		require.NotEmpty(t, src, "ENTRYPOINT %s is not copied from the build stage", argv[0])
		require.Contains(t, builds, src)
		assert.Equal(t, "./examples/seedapp", builds[src].pkg)
	})

	t.Run("healthcheck probes liveness with a built binary", func(t *testing.T) {
		hcs := final.all("HEALTHCHECK")
		require.Len(t, hcs, 1)
		_, cmd, ok := strings.Cut(hcs[0].args, "CMD ")
		require.True(t, ok, "HEALTHCHECK ... CMD [...]")
		argv := execForm(t, "HEALTHCHECK CMD", strings.TrimSpace(cmd))
		src := copiedFrom(t, final, build.name, argv[0])
		require.NotEmpty(t, src, "HEALTHCHECK runs %s, which is not copied from the build stage", argv[0])
		require.Contains(t, builds, src, "HEALTHCHECK runs %s, which the build stage does not build", argv[0])
		assert.Equal(t, "./cmd/healthprobe", builds[src].pkg)

		require.Len(t, argv, 2, "healthprobe URL")
		u, err := url.Parse(argv[1])
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.1", u.Hostname(), "the probe runs inside the container")
		assert.Equal(t, strings.TrimSuffix(final.all("EXPOSE")[0].args, "/tcp"), u.Port())
		// Docker's health check is liveness: the app starts not ready, and
		// the container must still count as healthy.
		a := newTestApp(t)
		healthtest.AssertStatus(t, a.handler, u.Path, http.StatusOK)
		healthtest.AssertStatus(t, a.handler, "/ready", http.StatusServiceUnavailable)
	})
}

// TestDockerfileBinariesAreStatic runs each go build of the Dockerfile here,
// with the Dockerfile's flags and environment, from the repository root (the
// build context), and checks the results need no dynamic loader.
func TestDockerfileBinariesAreStatic(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image is linux; ELF checks need a linux build")
	}
	_, _, builds := readDockerfile(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	goBin, err := exec.LookPath("go")
	require.NoError(t, err)
	for out, b := range builds {
		t.Run(path.Base(out), func(t *testing.T) {
			pkgDir := filepath.Join(root, filepath.FromSlash(b.pkg))
			if srcs, _ := filepath.Glob(filepath.Join(pkgDir, "*.go")); len(srcs) == 0 {
				t.Skipf("%s has no Go files yet", b.pkg)
			}
			bin := filepath.Join(t.TempDir(), path.Base(out))
			args := append([]string{"build"}, b.flags...)
			cmd := exec.Command(goBin, append(args, "-o", bin, b.pkg)...)
			cmd.Dir = root
			cmd.Env = os.Environ()
			for k, v := range b.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			msg, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s:\n%s", cmd, msg)

			f, err := elf.Open(bin)
			require.NoError(t, err)
			defer f.Close()
			for _, p := range f.Progs {
				assert.NotEqual(t, elf.PT_INTERP, p.Type, "%s asks for a dynamic loader", b.pkg)
			}
			libs, err := f.ImportedLibraries()
			require.NoError(t, err)
			assert.Empty(t, libs, "%s links shared libraries", b.pkg)
		})
	}
}

func TestParseDockerfile(t *testing.T) {
	stages, err := parseDockerfile("# syntax=docker/dockerfile:1\nFROM a AS b\nRUN x \\\n  # note\n  y\nFROM c\nUSER 1\n")
	require.NoError(t, err)
	require.Len(t, stages, 2)
	assert.Equal(t, stage{from: "a", name: "b", instrs: []instruction{{"RUN", "x y"}}}, stages[0])
	assert.Equal(t, "c", stages[1].from)

	_, err = parseDockerfile("RUN x\n")
	assert.Error(t, err)
	_, err = parseDockerfile("FROM a\nRUN x \\\n")
	assert.Error(t, err)

	words, err := splitWords(`go build -ldflags="-s -w" -o '/out/a b' ./x\ y`)
	require.NoError(t, err)
	assert.Equal(t, []string{"go", "build", "-ldflags=-s -w", "-o", "/out/a b", "./x y"}, words)
	_, err = splitWords(`go "build`)
	assert.Error(t, err)
}
