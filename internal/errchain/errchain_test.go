package errchain_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/internal/errchain"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type cyclic struct{}

func (c *cyclic) Error() string { return "cyclic" }
func (c *cyclic) Unwrap() error { return c }

type isEOF struct{}

func (isEOF) Error() string        { return "says it is EOF" }
func (isEOF) Is(target error) bool { return target == io.EOF }

func TestHasAgreesWithErrorsIs(t *testing.T) {
	for _, err := range []error{
		nil, io.EOF, context.Canceled, isEOF{},
		fmt.Errorf("wrapped: %w", io.EOF),
		fmt.Errorf("two: %w and %w", context.Canceled, fmt.Errorf("deep: %w", io.EOF)),
		errors.Join(errors.New("a"), nil, isEOF{}),
	} {
		for _, target := range []error{io.EOF, context.Canceled} {
			assert.Equal(t, errors.Is(err, target), errchain.Has(err, errchain.Is(target)), "%v is %v", err, target)
		}
	}
}

func TestHasEndsOnACyclicChain(t *testing.T) {
	assert.False(t, errchain.Has(&cyclic{}, errchain.Is(io.EOF)))
	seen := 0
	errchain.Has(&cyclic{}, func(error) bool { seen++; return false })
	assert.Equal(t, 100, seen, "it visits at most 100 errors")
}
