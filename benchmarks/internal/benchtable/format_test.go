package benchtable

import "testing"

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{count(0), "0"}, {count(91.04), "91.0"}, {count(104.6), "105"}, {count(1359848), "1,359,848"}, {count(3480.5), "3,481"},
		{ratio(0.1048), "0.10×"}, {exact(0.2544), "0.254×"}, {ratio(56.61), "56.6×"}, {ratio(11960.4), "11,960×"},
		{latency(0.000546), "546 µs"}, {latency(0.0528), "52.8 ms"}, {latency(1.5), "1.5 s"},
		{cell("a|b"), `a\|b`},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
