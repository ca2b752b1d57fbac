package manifests_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flagValue returns the value of flag name in args (-name=v, --name=v,
// -name v), the last one winning as in the flag package.
func flagValue(args []string, name string) (string, bool) {
	var val string
	var found bool
	for i := 0; i < len(args); i++ {
		a := strings.TrimPrefix(strings.TrimPrefix(args[i], "-"), "-")
		if a == args[i] {
			continue
		}
		if k, v, ok := strings.Cut(a, "="); ok && k == name {
			val, found = v, true
		} else if a == name && i+1 < len(args) {
			i++
			val, found = args[i], true
		}
	}
	return val, found
}

func durationFlag(t require.TestingT, args []string, name string, def time.Duration) time.Duration {
	if name == "" {
		return 0
	}
	v, ok := flagValue(args, name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, "-%s=%s", name, v)
	return d
}

func TestFlagValue(t *testing.T) {
	args := []string{"-addr=:5000", "--drain-delay", "3s", "-x", "-drain-delay=4s", "positional"}
	v, ok := flagValue(args, "drain-delay")
	assert.True(t, ok)
	assert.Equal(t, "4s", v)
	v, ok = flagValue(args, "addr")
	assert.True(t, ok)
	assert.Equal(t, ":5000", v)
	_, ok = flagValue(args, "shutdown-timeout")
	assert.False(t, ok)
}
