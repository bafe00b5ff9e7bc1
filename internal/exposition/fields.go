package exposition

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
)

// Reading the API's fields and writing exposition text: each reader
// reports a value it cannot read (its series is then left out) and
// returns whether there is a value.

// reportList reports a list field sent in another shape, and entries that
// are not <what> (kept aside by List).
func reportList[T any](report func(string, string), field string, l *aliyun.List[T], what string) {
	if l.Bad != "" {
		report(field, l.Bad)
	}
	if l.BadItems > 0 {
		report(field, strconv.Itoa(l.BadItems)+" entries that are not "+what)
	}
}

func number(field string, n aliyun.Num, report func(string, string)) (float64, bool) {
	if n.Bad != "" {
		report(field, n.Bad)
	}
	return n.V, n.Set
}

func boolean(field string, b aliyun.Bool, report func(string, string)) (float64, bool) {
	if b.Bad != "" {
		report(field, b.Bad)
	}
	return b2f(b.V), b.Set
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// textField reports a bad value and returns the trimmed text ("" if none).
func textField(field string, s aliyun.Str, report func(string, string)) string {
	if s.Bad != "" {
		report(field, s.Bad)
	}
	return strings.TrimSpace(s.V)
}

// timeLayouts are the RFC 3339 forms Alibaba Cloud APIs send, by whether
// the seconds are there ([1]) or not ([0]) and by the zone: Z or ±hh:mm,
// ±hhmm, ±hh, none. Parsing takes fractional seconds after the seconds
// without the layout saying so.
var timeLayouts = [2][4]string{
	{"2006-01-02T15:04Z07:00", "2006-01-02T15:04Z0700", "2006-01-02T15:04Z07", "2006-01-02T15:04"},
	{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05Z07", "2006-01-02T15:04:05"},
}

// timestamp reads an RFC 3339 time: T, t or a space between date and
// time, seconds and their fraction optional, and a zone of Z, z, ±hh:mm,
// ±hhmm or ±hh. A time without a zone is read in the configured time zone
// and its field noted in r.zoneless.
func (r *renderer) timestamp(field string, s aliyun.Str, report func(string, string)) (time.Time, bool) {
	v := textField(field, s, report)
	if v == "" {
		return time.Time{}, false
	}
	u := strings.ToUpper(v) // t and z; no copy when already upper case
	if len(u) > 10 && u[10] == ' ' {
		u = u[:10] + "T" + u[11:]
	}
	zone := 3 // index in timeLayouts: none
	if len(u) > 11 {
		clock := u[11:]
		if i := strings.LastIndexAny(clock, "Z+-"); i >= 0 {
			switch {
			case clock[i] == 'Z' || len(clock)-i == len("+08:00"):
				zone = 0
			case len(clock)-i == len("+0800"):
				zone = 1
			case len(clock)-i == len("+08"):
				zone = 2
			default:
				zone = -1
			}
			clock = clock[:i]
		}
		if secs := strings.Count(clock, ":") - 1; zone >= 0 && (secs == 0 || secs == 1) {
			if ts, err := time.ParseInLocation(timeLayouts[secs][zone], u, r.loc); err == nil {
				if zone == 3 {
					if r.zoneless == nil {
						r.zoneless = map[string]string{}
					}
					if _, ok := r.zoneless[field]; !ok {
						r.zoneless[field] = v
					}
				}
				return ts, true
			}
		}
	}
	report(field, v)
	return time.Time{}, false
}

// date reads yyyy-MM-dd as 00:00 in the configured time zone.
func (r *renderer) date(field string, s aliyun.Str, report func(string, string)) (time.Time, bool) {
	v := textField(field, s, report)
	if v == "" {
		return time.Time{}, false
	}
	d, err := time.ParseInLocation("2006-01-02", v, r.loc)
	if err != nil {
		report(field, v)
		return time.Time{}, false
	}
	return d, true
}

// appendLabel appends name="value", preceded by a comma unless buf is
// empty, escaping the value as the text format requires.
func appendLabel(buf []byte, name, value string) []byte {
	if len(buf) > 0 {
		buf = append(buf, ',')
	}
	buf = append(buf, name...)
	buf = append(buf, '=', '"')
	if !utf8.ValidString(value) {
		value = strings.ToValidUTF8(value, "\uFFFD") // Prometheus rejects invalid UTF-8
	}
	// Runs without anything to escape, most values whole, are copied at
	// once.
	from := 0
	for i := 0; i < len(value); i++ {
		var esc byte
		switch value[i] {
		case '\\':
			esc = '\\'
		case '"':
			esc = '"'
		case '\n':
			esc = 'n'
		default:
			continue
		}
		buf = append(buf, value[from:i]...)
		buf = append(buf, '\\', esc)
		from = i + 1
	}
	buf = append(buf, value[from:]...)
	return append(buf, '"')
}

// appendValue writes numbers without an exponent where it can, so
// timestamps read as 1651075200 rather than 1.6510752e+09.
func appendValue(buf []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(buf, "+Inf"...)
	case math.IsInf(v, -1):
		return append(buf, "-Inf"...)
	case math.IsNaN(v):
		return append(buf, "NaN"...)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.AppendInt(buf, int64(v), 10)
	case math.Abs(v) < 1e9:
		// Milliseconds as seconds (the countdown, timestamps of windows)
		// are written as such: the shortest digits of v are those of its
		// milliseconds when v is their quotient by 1000, and finding them
		// in general takes several times as long.
		// Floor(x+0.5) is Round(x) here (where they differ, x is not
		// near a whole number of milliseconds) and costs a quarter.
		if ms := math.Floor(v*1000 + 0.5); ms/1000 == v {
			return appendMilliseconds(buf, int64(ms))
		}
	case math.Abs(v) >= 1e-4 && math.Abs(v) < 1e15:
		return strconv.AppendFloat(buf, v, 'f', -1, 64)
	}
	return strconv.AppendFloat(buf, v, 'g', -1, 64)
}

// appendMilliseconds writes ms/1000 in decimal, without trailing zeros;
// ms is not a multiple of 1000. It writes two digits at a time into a
// buffer on the stack, the three decimals at once: the countdown writes
// one such value per group at every scrape, and strconv's general path
// took twice as long.
func appendMilliseconds(buf []byte, ms int64) []byte {
	var text [24]byte // a sign, 16 digits, the point and three decimals
	u := uint64(ms)   //nolint:gosec // its magnitude, below
	if ms < 0 {
		u = uint64(-ms)
	}
	secs, frac := u/1000, u%1000
	// The point and three decimals, of which trailing zeros are left out.
	end := len(text)
	hundreds, rest := frac/100, frac%100*2
	text[end-4], text[end-3], text[end-2], text[end-1] = '.', byte('0'+hundreds), digitPairs[rest], digitPairs[rest+1]
	switch {
	case rest == 0:
		end -= 2
	case frac%10 == 0:
		end--
	}
	i := len(text) - 4
	for secs >= 100 {
		r := secs % 100 * 2
		secs /= 100
		i -= 2
		text[i], text[i+1] = digitPairs[r], digitPairs[r+1]
	}
	if secs >= 10 {
		i -= 2
		text[i], text[i+1] = digitPairs[secs*2], digitPairs[secs*2+1]
	} else {
		i--
		text[i] = byte('0' + secs)
	}
	if ms < 0 {
		i--
		text[i] = '-'
	}
	return append(buf, text[i:end]...)
}

// digitPairs holds 00 to 99, two characters each.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
