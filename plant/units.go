package plant

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"twin/sim"
)

// ParseDuration reads a duration with a unit: "90s", "2.5min", "1.5h",
// "2d", "1h30m", "250ms". "0" needs no unit.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, errors.New("want a duration like 90s, 2.5min or 1.5h, got nothing")
	}
	if s[0] == '-' {
		return 0, fmt.Errorf("want a duration that is not negative, got %q", s)
	}
	// A single number and unit, the unit spelled out or with days.
	if n, unit, ok := splitNumber(s); ok {
		var u float64
		switch unit {
		case "ns":
			u = 1
		case "us", "µs":
			u = 1e3
		case "ms":
			u = 1e6
		case "s", "sec":
			u = 1e9
		case "m", "min":
			u = 60e9
		case "h":
			u = 3600e9
		case "d":
			u = 86400e9
		case "w":
			u = 7 * 86400e9
		case "":
			return 0, fmt.Errorf("want a duration with a unit (s, min, h, d), got %q", s)
		default:
			return 0, fmt.Errorf("want a duration like 90s, 2.5min or 1.5h, got %q (unknown unit %q)", s, unit)
		}
		ns := n * u
		if ns > float64(math.MaxInt64)/2 {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		return time.Duration(math.Round(ns)), nil
	}
	d, err := time.ParseDuration(s) // "1h30m"
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want a duration like 90s, 2.5min, 1.5h or 1h30m, got %q", s)
	}
	return d, nil
}

// splitNumber splits "2.5min" into 2.5 and "min"; ok is false when s does
// not start with a number or has more than one number in it.
func splitNumber(s string) (float64, string, bool) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == '_' || (i == 0 && (s[i] == '+' || s[i] == '-')) ||
		(s[i] == 'e' || s[i] == 'E') && i > 0 && i+1 < len(s) && (s[i+1] >= '0' && s[i+1] <= '9' || s[i+1] == '-' || s[i+1] == '+')) {
		if s[i] == 'e' || s[i] == 'E' {
			i++ // the exponent's sign
		}
		i++
	}
	if i == 0 {
		return 0, "", false
	}
	n, err := strconv.ParseFloat(strings.ReplaceAll(s[:i], "_", ""), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, "", false
	}
	unit := strings.TrimSpace(s[i:])
	if strings.IndexFunc(unit, unicode.IsDigit) >= 0 {
		return 0, "", false
	}
	return n, unit, true
}

// ParsePower reads a power: "4.5kW", "800 W", "1.2MW"; "0" needs no unit.
// It returns kW.
func ParsePower(s string) (float64, error) {
	s = strings.TrimSpace(s)
	n, unit, ok := splitNumber(s)
	if !ok {
		return 0, fmt.Errorf("want a power like 4.5kW or 800W, got %q", s)
	}
	if n < 0 {
		return 0, fmt.Errorf("want a power that is not negative, got %q", s)
	}
	switch unit {
	case "W":
		return n / 1000, nil
	case "kW":
		return n, nil
	case "MW":
		return n * 1000, nil
	case "":
		if n == 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("want a power with a unit (W, kW, MW), got %q", s)
	}
	return 0, fmt.Errorf("want a power like 4.5kW or 800W, got %q (unknown unit %q)", s, unit)
}

// parseMoney reads "180 CNY" in the plant currency cur.
func parseMoney(s, cur string) (float64, error) {
	s = strings.TrimSpace(s)
	n, unit, ok := splitNumber(s)
	if !ok {
		return 0, fmt.Errorf("want an amount like \"180 %s\", got %q", cur, s)
	}
	if unit == "" {
		if n == 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("want an amount with its currency, like \"%g %s\", got %q", n, cur, s)
	}
	if unit != cur {
		return 0, fmt.Errorf("amount in %s, but the plant's currency is %s", unit, cur)
	}
	if n < 0 {
		return 0, fmt.Errorf("want an amount that is not negative, got %q", s)
	}
	return n, nil
}

// parsePrice reads an energy price "0.65 CNY/kWh" (or per MWh) and returns
// currency per kWh.
func parsePrice(s, cur string) (float64, error) {
	s = strings.TrimSpace(s)
	n, unit, ok := splitNumber(s)
	if !ok || unit == "" {
		return 0, fmt.Errorf("want a price like \"0.65 %s/kWh\", got %q", cur, s)
	}
	c, per, _ := strings.Cut(unit, "/")
	if c != cur {
		return 0, fmt.Errorf("price in %s, but the plant's currency is %s", c, cur)
	}
	if n < 0 {
		return 0, fmt.Errorf("want a price that is not negative, got %q", s)
	}
	switch per {
	case "kWh":
		return n, nil
	case "MWh":
		return n / 1000, nil
	}
	return 0, fmt.Errorf("want a price per kWh or MWh, like \"0.65 %s/kWh\", got %q", cur, s)
}

// parseEmission reads an emission factor "0.5366 kg/kWh" and returns kg CO2
// per kWh. tCO2/MWh is the same number.
func parseEmission(s string) (float64, error) {
	s = strings.TrimSpace(s)
	n, unit, ok := splitNumber(s)
	if !ok {
		return 0, fmt.Errorf("want an emission factor like \"0.5366 kg/kWh\", got %q", s)
	}
	if n < 0 {
		return 0, fmt.Errorf("want an emission factor that is not negative, got %q", s)
	}
	switch unit {
	case "kg/kWh", "kgCO2/kWh", "kgCO2e/kWh", "t/MWh", "tCO2/MWh", "tCO2e/MWh":
		return n, nil
	case "g/kWh", "gCO2/kWh", "gCO2e/kWh":
		return n / 1000, nil
	}
	return 0, fmt.Errorf("want an emission factor in kg/kWh or tCO2/MWh, like \"0.5366 kg/kWh\", got %q", s)
}

// parseFraction reads 0.96 or "96%" as a fraction in [0, 1].
func parseFraction(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
	if err != nil {
		return 0, fmt.Errorf("want a fraction like 0.96 or 96%%, got %q", s)
	}
	if pct {
		v /= 100
	}
	if !(v >= 0 && v <= 1) {
		return 0, fmt.Errorf("want a fraction between 0 and 1 (0%%–100%%), got %q", s)
	}
	return v, nil
}

// ParseTimeOfDay reads "08:00", "8:30", "24:00" or "06:15:30".
func ParseTimeOfDay(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("want a time of day like 08:00, got %q", s)
	}
	var v [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || len(p) > 2 {
			return 0, fmt.Errorf("want a time of day like 08:00, got %q", s)
		}
		v[i] = n
	}
	if v[1] > 59 || v[2] > 59 || v[0] > 24 || v[0] == 24 && (v[1] > 0 || v[2] > 0) {
		return 0, fmt.Errorf("want a time of day from 00:00 to 24:00, got %q", s)
	}
	return time.Duration(v[0])*time.Hour + time.Duration(v[1])*time.Minute + time.Duration(v[2])*time.Second, nil
}

// parseSpan reads "08:00-12:00" ("22:00-06:00" crosses midnight).
func parseSpan(s string) (Span, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Span{}, fmt.Errorf("want a span of the day like 08:00-12:00, got %q", s)
	}
	from, err := ParseTimeOfDay(a)
	if err != nil {
		return Span{}, fmt.Errorf("want a span of the day like 08:00-12:00, got %q", s)
	}
	to, err := ParseTimeOfDay(b)
	if err != nil {
		return Span{}, fmt.Errorf("want a span of the day like 08:00-12:00, got %q", s)
	}
	if from == to {
		return Span{}, fmt.Errorf("span %q is empty", s)
	}
	if to == 24*time.Hour {
		to = 0
		if from == 0 {
			return Span{0, 24 * time.Hour}, nil
		}
	}
	return Span{from, to}, nil
}

// parseDate reads 2026-10-01.
func parseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("want a date like 2026-10-01, got %q", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// ParseTime reads a time a person wrote: RFC 3339 with an offset
// ("2026-03-02T08:00:00+08:00", "…Z"; the seconds may be left out), or plant time without one in loc:
// "2026-03-02", "2026-03-02T08:00", "2026-03-02T08:00:00" (fractions of
// a second allowed), or the same with a space for the T. A plant time is
// the plant's wall clock (Clock): one in a daylight-saving gap is the
// instant the gap ends, one the clock shows twice is its first pass. The
// result is in loc. The plant file, the records API and the CLI all read
// times with it.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.In(loc), nil
		}
	}
	for _, layout := range []string{time.DateOnly, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			y, m, d := t.Date()
			return Clock(y, m, d, t.Sub(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)), loc), nil
		}
	}
	return time.Time{}, fmt.Errorf("want a time like 2026-03-02T08:00 (plant time, %s) or RFC 3339 with an offset, got %q", loc, s)
}

// distKind says what a distribution's values are.
type distKind uint8

const (
	durations distKind = iota // seconds, written with units
	numbers                   // plain numbers (quantities)
)

// ParseDist reads a distribution of durations (in seconds): "90s",
// "exp(5min)", "norm(10min, 1min)", "lognorm(10min, 3min)",
// "tri(1min, 2min, 4min)", "uniform(1min, 2min)", "weibull(1.5, 40h)",
// "gamma(2, 5min)", "erlang(3, 6min)", "empirical(90s, 100s, 120s)",
// "discrete(90s: 0.2, 100s: 0.8)".
func ParseDist(s string) (sim.Dist, error) { return parseDist(s, durations) }

// ParseNumberDist reads a distribution of plain numbers ("tri(5, 20, 60)").
func ParseNumberDist(s string) (sim.Dist, error) { return parseDist(s, numbers) }

func parseDist(s string, kind distKind) (sim.Dist, error) {
	s = strings.TrimSpace(s)
	want := "want a duration like 90s or a distribution like exp(5min), norm(10min, 1min), tri(1min, 2min, 4min)"
	if kind == numbers {
		want = "want a number or a distribution like tri(5, 20, 60), uniform(1, 10), exp(4)"
	}
	open := strings.IndexByte(s, '(')
	if open < 0 {
		v, err := value(s, kind)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", want, err)
		}
		return sim.Const{V: v}, nil
	}
	if !strings.HasSuffix(s, ")") {
		return nil, fmt.Errorf("%s; got %q (no closing parenthesis: inside {…} or […] quote a distribution that has commas, \"tri(1min, 2min, 4min)\")", want, s)
	}
	name := strings.ToLower(strings.TrimSpace(s[:open]))
	body := s[open+1 : len(s)-1]
	var args []string
	if strings.TrimSpace(body) != "" {
		args = strings.Split(body, ",")
	}
	for i := range args {
		args[i] = strings.TrimSpace(args[i])
	}
	nargs := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("%s takes %d parameters, got %d in %q", name, n, len(args), s)
		}
		return nil
	}
	vals := func() ([]float64, error) {
		out := make([]float64, len(args))
		for i, a := range args {
			v, err := value(a, kind)
			if err != nil {
				return nil, fmt.Errorf("%s parameter %d: %v", name, i+1, err)
			}
			out[i] = v
		}
		return out, nil
	}
	switch name {
	case "const", "constant", "exp", "exponential", "norm", "normal", "lognorm", "lognormal", "tri", "triangular", "uniform":
		v, err := vals()
		if err != nil {
			return nil, err
		}
		switch name {
		case "const", "constant":
			if err := nargs(1); err != nil {
				return nil, err
			}
			return sim.Const{V: v[0]}, nil
		case "exp", "exponential":
			if err := nargs(1); err != nil {
				return nil, err
			}
			if !(v[0] > 0) {
				return nil, fmt.Errorf("exp wants a positive mean, got %q", s)
			}
			return sim.Exponential{M: v[0]}, nil
		case "norm", "normal":
			if err := nargs(2); err != nil {
				return nil, err
			}
			if v[1] < 0 {
				return nil, fmt.Errorf("norm wants a standard deviation that is not negative, got %q", s)
			}
			return sim.Normal{Mu: v[0], Sigma: v[1]}, nil
		case "lognorm", "lognormal":
			if err := nargs(2); err != nil {
				return nil, err
			}
			if !(v[0] > 0) || v[1] < 0 {
				return nil, fmt.Errorf("lognorm wants a positive mean and a standard deviation that is not negative, got %q", s)
			}
			return sim.LogNormalMeanStd(v[0], v[1]), nil
		case "tri", "triangular":
			if err := nargs(3); err != nil {
				return nil, err
			}
			if !(v[0] <= v[1] && v[1] <= v[2]) || v[0] == v[2] {
				return nil, fmt.Errorf("tri wants min ≤ mode ≤ max with min < max, got %q", s)
			}
			return sim.Triangular{Min: v[0], Mode: v[1], Max: v[2]}, nil
		default: // uniform
			if err := nargs(2); err != nil {
				return nil, err
			}
			if !(v[0] < v[1]) {
				return nil, fmt.Errorf("uniform wants min < max, got %q", s)
			}
			return sim.Uniform{Min: v[0], Max: v[1]}, nil
		}
	case "weibull", "gamma", "erlang":
		if err := nargs(2); err != nil {
			return nil, err
		}
		shape, err := strconv.ParseFloat(args[0], 64)
		if err != nil || !(shape > 0) {
			return nil, fmt.Errorf("%s wants a positive shape (a plain number) first, got %q", name, args[0])
		}
		scale, err := value(args[1], kind)
		if err != nil {
			return nil, fmt.Errorf("%s parameter 2: %v", name, err)
		}
		if !(scale > 0) {
			return nil, fmt.Errorf("%s wants a positive scale, got %q", name, args[1])
		}
		switch name {
		case "weibull":
			return sim.Weibull{K: shape, Lambda: scale}, nil
		case "gamma":
			return sim.Gamma{K: shape, Theta: scale}, nil
		}
		if shape != math.Trunc(shape) || shape > 1000 {
			return nil, fmt.Errorf("erlang wants a whole number of phases (1–1000) first, got %q", args[0])
		}
		return sim.Erlang{K: int(shape), M: scale}, nil
	case "empirical":
		if len(args) < 2 {
			return nil, fmt.Errorf("empirical wants at least 2 observations, got %d in %q", len(args), s)
		}
		v, err := vals()
		if err != nil {
			return nil, err
		}
		e, err := sim.NewEmpirical(v)
		if err != nil {
			return nil, err
		}
		return e, nil
	case "discrete":
		if len(args) < 1 {
			return nil, fmt.Errorf("discrete wants value: weight pairs, got %q", s)
		}
		var vs, ws []float64
		for i, a := range args {
			x, w, ok := strings.Cut(a, ":")
			if !ok {
				return nil, fmt.Errorf("discrete wants value: weight pairs, like discrete(90s: 0.2, 100s: 0.8); pair %d is %q", i+1, a)
			}
			v, err := value(strings.TrimSpace(x), kind)
			if err != nil {
				return nil, fmt.Errorf("discrete pair %d: %v", i+1, err)
			}
			wt, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
			if err != nil || !(wt >= 0) || math.IsInf(wt, 0) {
				return nil, fmt.Errorf("discrete pair %d: want a weight that is not negative, got %q", i+1, strings.TrimSpace(w))
			}
			vs, ws = append(vs, v), append(ws, wt)
		}
		d, err := sim.NewDiscrete(vs, ws)
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	return nil, fmt.Errorf("unknown distribution %q; known: const, exp, norm, lognorm, tri, uniform, weibull, gamma, erlang, empirical, discrete", name)
}

// value reads one parameter: a duration in seconds, or a plain number.
func value(s string, kind distKind) (float64, error) {
	if kind == numbers {
		v, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("want a number, got %q", s)
		}
		return v, nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return d.Seconds(), nil
}
