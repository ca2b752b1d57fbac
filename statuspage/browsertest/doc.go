// Package browsertest tests statuspage in a real browser: headless
// Chromium (Debian's chromium package), driven over the DevTools protocol
// with github.com/chromedp/chromedp. It is a module of its own so that
// chromedp never enters the root module's requirements; it holds tests
// only.
//
//	go test ./statuspage/browsertest/...
//
// Without chromium on PATH the tests skip with "missing prerequisite: ".
// The example tests build examples/seedapp and examples/dependencies (the
// latter with a private redis-server) and run them as processes. With
// -docs, the dependencies test writes docs/statuspage.png, the screenshot
// the README shows.
package browsertest
