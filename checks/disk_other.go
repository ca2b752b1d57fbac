//go:build !linux && !darwin

package checks

import (
	"errors"
	"runtime"
)

const diskSupported = false

func freeBytes(string) (uint64, error) {
	return 0, errors.New("not supported on " + runtime.GOOS)
}
