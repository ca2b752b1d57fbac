package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		out  string
	}{
		{nil, 0, ""},
		{flag.ErrHelp, 0, ""},
		{errors.New("boom"), 1, "app: boom\n"},
	} {
		var stderr bytes.Buffer
		var args []string
		code := main("app", func(ctx context.Context, a []string, _, _ io.Writer) error {
			args = a
			assert.NoError(t, ctx.Err(), "no signal yet")
			return tc.err
		}, []string{"-x"}, &stderr)
		assert.Equal(t, tc.code, code)
		assert.Equal(t, tc.out, stderr.String())
		assert.Equal(t, []string{"-x"}, args)
	}
}
