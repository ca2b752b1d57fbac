// Package errchain walks the chain of an error that user code returned,
// which errors.Is cannot be trusted with: a cyclic chain (an Unwrap that
// returns its receiver) makes errors.Is loop for ever.
package errchain

// maxLinks bounds a walk: far more than any real chain holds.
const maxLinks = 100

// Has reports whether match holds for err or an error it wraps, depth
// first as errors.Is walks, visiting at most 100 errors. It calls the
// errors' Unwrap methods, and match may call others: call it only where a
// panic or a hang of user code is contained.
func Has(err error, match func(error) bool) bool {
	stack := []error{err}
	for n := 0; len(stack) > 0 && n < maxLinks; n++ {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if e == nil {
			continue
		}
		if match(e) {
			return true
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			stack = append(stack, u.Unwrap())
		case interface{ Unwrap() []error }:
			list := u.Unwrap()
			for i := len(list) - 1; i >= 0; i-- {
				stack = append(stack, list[i])
			}
		}
	}
	return false
}

// Is returns errors.Is's test of one link against target, for Has.
func Is(target error) func(error) bool {
	return func(e error) bool {
		if e == target {
			return true
		}
		x, ok := e.(interface{ Is(error) bool })
		return ok && x.Is(target)
	}
}
