package statuspage

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// schemes returns the colour custom properties of page.css: the light
// scheme (":root") and the dark one (inside prefers-color-scheme: dark).
func schemes(t *testing.T) map[string]map[string]string {
	t.Helper()
	css, err := staticFiles.ReadFile("static/page.css")
	require.NoError(t, err)
	text := string(css)
	dark := strings.Index(text, "@media (prefers-color-scheme: dark)")
	require.Greater(t, dark, 0, "page.css has no dark scheme")
	prop := regexp.MustCompile(`(--[a-z-]+):\s*(#[0-9a-fA-F]{6});`)
	parse := func(s string) map[string]string {
		m := make(map[string]string)
		for _, p := range prop.FindAllStringSubmatch(s, -1) {
			m[p[1]] = p[2]
		}
		return m
	}
	light, darkVars := parse(text[:dark]), parse(text[dark:])
	require.Equal(t, len(light), len(darkVars), "each scheme sets every colour")
	require.GreaterOrEqual(t, len(light), 20)
	return map[string]map[string]string{"light": light, "dark": darkVars}
}

// luminance is WCAG 2's relative luminance of "#rrggbb".
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	require.NoError(t, err)
	ch := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(v>>16&0xff) + 0.7152*ch(v>>8&0xff) + 0.0722*ch(v&0xff)
}

func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

// TestContrast: every pair of colours the page draws text with has a
// WCAG contrast ratio of at least 4.5 (AA for text), and every graphic
// (status lines, bars, the breaker line) at least 3 against the
// background (AA for graphics), in both colour schemes.
func TestContrast(t *testing.T) {
	text := [][2]string{
		{"--fg", "--bg"}, {"--muted", "--bg"}, {"--link", "--bg"},
		{"--fg", "--card-bg"}, {"--muted", "--card-bg"},
		{"--pass-fg", "--pass-bg"}, {"--warn-fg", "--warn-bg"}, {"--fail-fg", "--fail-bg"}, {"--unknown-fg", "--unknown-bg"},
		{"--flap-fg", "--flap-bg"},
		{"--pass-fg", "--bg"}, {"--warn-fg", "--bg"}, {"--fail-fg", "--bg"}, // breaker states
	}
	graphics := []string{"--pass-line", "--warn-line", "--fail-line", "--unknown-line", "--bar-line", "--breaker-line"}
	for name, vars := range schemes(t) {
		for _, pair := range text {
			fg, bg := vars[pair[0]], vars[pair[1]]
			require.NotEmpty(t, fg, "%s: %s", name, pair[0])
			require.NotEmpty(t, bg, "%s: %s", name, pair[1])
			r := contrast(t, fg, bg)
			assert.GreaterOrEqual(t, r, 4.5, "%s: %s %s on %s %s: %.2f", name, pair[0], fg, pair[1], bg, r)
		}
		for _, g := range graphics {
			for _, bg := range []string{"--bg", "--card-bg"} {
				r := contrast(t, vars[g], vars[bg])
				assert.GreaterOrEqual(t, r, 3.0, "%s: %s %s on %s %s: %.2f", name, g, vars[g], bg, vars[bg], r)
			}
		}
	}
}

// The ratio itself, on the pairs WCAG's own examples give.
func TestContrastFormula(t *testing.T) {
	assert.InDelta(t, 21.0, contrast(t, "#000000", "#ffffff"), 0.01)
	assert.InDelta(t, 1.0, contrast(t, "#777777", "#777777"), 0.01)
	assert.InDelta(t, 4.48, contrast(t, "#777777", "#ffffff"), 0.01)
}
