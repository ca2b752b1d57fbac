package adversarial_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
)

// hostileValue marks this suite's hostile types, so that the suite's own
// assertions (safeIs, safeText) never call into them.
type hostileValue interface{ hostile() }

// act is what a hostile method does: panic, call runtime.Goexit, or hang
// until the test releases it.
type act func()

func panics(v any) act    { return func() { panic(v) } }
func goexits() act        { return runtime.Goexit }
func hangs(rg *rig) act   { return rg.hang }
func marker(s string) any { return "adversarial-" + s }

// derefErr dereferences its receiver in every method: returned as a typed
// nil (var e *derefErr; return e), each of them panics.
type derefErr struct {
	msg   string
	inner error
}

func (e *derefErr) Error() string { return e.msg }
func (e *derefErr) Unwrap() error { return e.inner }
func (*derefErr) hostile()        {}

// unwrapDerefErr has a nil-safe Error but an Unwrap that dereferences its
// receiver: the known reproduction of a typed nil that kills the process
// through errors.Is.
type unwrapDerefErr struct{ inner error }

func (e *unwrapDerefErr) Error() string {
	if e == nil {
		return "typed nil *unwrapDerefErr"
	}
	return "unwrapDerefErr"
}
func (e *unwrapDerefErr) Unwrap() error { return e.inner }
func (*unwrapDerefErr) hostile()        {}

// methodErr performs its act in the one method named in (Error, Unwrap,
// Is or As) and behaves in the others.
type methodErr struct {
	in string
	do act
}

func (e *methodErr) Error() string {
	if e.in == "Error" {
		e.do()
	}
	return "methodErr: hostile in " + e.in
}

func (e *methodErr) Unwrap() error {
	if e.in == "Unwrap" {
		e.do()
	}
	return nil
}

func (e *methodErr) Is(error) bool {
	if e.in == "Is" {
		e.do()
	}
	return false
}

func (e *methodErr) As(any) bool {
	if e.in == "As" {
		e.do()
	}
	return false
}
func (*methodErr) hostile() {}

// cycleErr unwraps to itself: errors.Is and errors.As never end on it.
type cycleErr struct{}

func (e *cycleErr) Error() string { return "cycleErr" }
func (e *cycleErr) Unwrap() error { return e }
func (*cycleErr) hostile()        {}

// joinCycleErr's multi-error Unwrap contains itself: errors.Is recurses
// until the goroutine's stack overflows, which is fatal, not a panic.
type joinCycleErr struct{}

func (e *joinCycleErr) Error() string   { return "joinCycleErr" }
func (e *joinCycleErr) Unwrap() []error { return []error{e} }
func (*joinCycleErr) hostile()          {}

// listErr is an error of a type that is not comparable: == between two
// of them panics at run time.
type listErr []string

func (e listErr) Error() string { return "listErr: " + strings.Join(e, ", ") }
func (listErr) hostile()        {}

// lyingAsErr claims to be of every type in errors.As without setting the
// target.
type lyingAsErr struct{}

func (*lyingAsErr) Error() string { return "lyingAsErr" }
func (*lyingAsErr) As(any) bool   { return true }
func (*lyingAsErr) hostile()      {}

// hugeErr's text is long and full of what breaks line-based and
// JSON-based output: newlines, carriage returns, NULs, invalid UTF-8,
// quotes, HTML and fake Kubernetes text-form lines.
type hugeErr struct{}

func (*hugeErr) Error() string {
	line := "\r\n[+]ready ok\n\x00\xff\xfe\"</script>\u2028readiness check passed\n"
	return strings.Repeat(line, (1<<20)/len(line))
}
func (*hugeErr) hostile() {}

// actStringer is a panic value (or hook panic value) whose String performs
// its act when the library formats it.
type actStringer struct{ do act }

func (s actStringer) String() string { s.do(); return "actStringer" }
func (actStringer) hostile()         {}

// safeIs is errors.Is for assertions on errors that may wrap hostile ones:
// it walks the chain (depth-bounded, with panics caught) and stops at this
// suite's hostile types instead of calling their methods.
func safeIs(err, target error) bool { return safeIsDepth(err, target, 0) }

func safeIsDepth(err, target error, depth int) (found bool) {
	defer func() {
		if recover() != nil {
			found = false
		}
	}()
	for ; err != nil && depth < 64; depth++ {
		if _, ok := err.(hostileValue); ok {
			return false
		}
		if err == target {
			return true
		}
		if x, ok := err.(interface{ Is(error) bool }); ok && x.Is(target) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if safeIsDepth(e, target, depth+1) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// safeText returns err's text unless err is one of this suite's hostile
// types; a panic while formatting is reported in the text.
func safeText(err error) (s string) {
	if err == nil {
		return "<nil>"
	}
	if _, ok := err.(hostileValue); ok {
		return fmt.Sprintf("<hostile %T>", err)
	}
	defer func() {
		if v := recover(); v != nil {
			s = fmt.Sprintf("<Error panicked: %v>", v)
		}
	}()
	return err.Error()
}

// errJudge says what is wrong with the error of a hostile run, or "".
type errJudge func(err error) string

func matches(target error) errJudge {
	return func(err error) string {
		if safeIs(err, target) {
			return ""
		}
		return fmt.Sprintf("error %q (%T) does not match %v", shorten(safeText(err)), err, target)
	}
}

func mentions(word string) errJudge {
	return func(err error) string {
		if strings.Contains(strings.ToLower(safeText(err)), strings.ToLower(word)) {
			return ""
		}
		return fmt.Sprintf("error %q (%T) does not mention %q", shorten(safeText(err)), err, word)
	}
}

func shorten(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

var errCheckFailed = errors.New("adversarial: the check failed as it was told to")
