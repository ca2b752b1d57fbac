package statuspage

import (
	"fmt"
	"strconv"
	"time"
)

// duration formats a run's duration for people: "850 µs", "12.3 ms",
// "1.5 s".
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + " µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', precision(d, time.Millisecond), 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', precision(d, time.Second), 64) + " s"
}

// precision keeps three significant digits at most.
func precision(d, unit time.Duration) int {
	switch {
	case d >= 100*unit:
		return 0
	case d >= 10*unit:
		return 1
	}
	return 2
}

// clock formats t in UTC, with the date when it is not now's: "14:03:07
// UTC", "Jan 2 14:03:07 UTC". Servers and on-call engineers rarely share a
// time zone; UTC is the one the logs use.
func clock(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04:05") + " UTC"
	}
	return t.Format("Jan 2 15:04:05") + " UTC"
}

// ago formats how long ago t was (or, for a time to come, how long until
// it), to the minute so that a page rendered again within the minute is
// the same: "<1 min", "41 min", "3 h 12 min", "2 d 4 h".
func ago(t, now time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = -d
	}
	m := int(d / time.Minute)
	switch {
	case m < 1:
		return "<1 min"
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m < 48*60:
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
	return fmt.Sprintf("%d d %d h", m/(24*60), m/60%24)
}

// iso is the machine-readable form of t, for <time datetime> and JSON.
func iso(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
