package browsertest

import (
	"flag"
	"testing"

	"go.uber.org/goleak"
)

// docs makes TestDependenciesOutageInChromium write docs/statuspage.png,
// the screenshot the README shows.
var docs = flag.Bool("docs", false, "write the README's screenshot, docs/statuspage.png")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
