package plant

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"twin/plant/yamldec"
)

// reasonCode is the form of a reason's code: snake_case, what the
// records keep and the API's clients match on.
var reasonCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// maxReasonName and maxInstructions bound what a screen shows.
const (
	maxReasonName   = 60
	maxInstructions = 2000
)

// floor reads the keys of the floor's screens: locale, downtime_reasons,
// scrap_reasons.
func (d *decoder) floor(sec map[string]*yaml.Node) {
	p := d.p
	p.Locale = LocaleEN
	if v := sec["locale"]; v != nil {
		if s, ok := d.Scalar(v, "locale", "zh-CN or en"); ok {
			switch {
			case s == LocaleZH || s == LocaleEN:
				p.Locale = s
			case strings.EqualFold(s, "zh-CN") || strings.EqualFold(s, "zh") || strings.EqualFold(s, "zh-Hans"):
				d.Errorf(v, "locale", "want zh-CN (Simplified Chinese) or en, got %q: write zh-CN", s)
			default:
				d.Errorf(v, "locale", "want zh-CN (Simplified Chinese) or en (English), got %q", s)
			}
		}
	}
	if v := sec["downtime_reasons"]; v != nil {
		p.DowntimeReasons = d.reasons(v, "downtime_reasons", "stop_reason")
	}
	if v := sec["scrap_reasons"]; v != nil {
		p.ScrapReasons = d.reasons(v, "scrap_reasons", "scrap_reason")
	}
}

// reasons reads a list of reasons of kind (downtime_reason or
// scrap_reason): codes unique, a name in at least one language (the
// other takes it too).
func (d *decoder) reasons(v *yaml.Node, field, kind string) []Reason {
	seen := map[string]*yaml.Node{}
	out := []Reason{}
	for i, n := range d.List(v, field, false) {
		f := field + "." + yamldec.IDOf(n, i)
		var r Reason
		var codeNode *yaml.Node
		ok := d.fields(n, kind, f, func(key string, v *yaml.Node) {
			kf := yamldec.Join(f, key)
			switch key {
			case "code":
				codeNode = v
				if s, ok := d.Scalar(v, kf, "a code in snake_case"); ok {
					if !reasonCode.MatchString(s) {
						d.Errorf(v, kf, "want a code in snake_case (lower-case letters, digits and _, at most 32, like no_operator), got %q", s)
					} else {
						r.Code = s
					}
				}
			case "zh":
				r.ZH = d.name(v, kf)
			case "en":
				r.EN = d.name(v, kf)
			case "loss":
				if s, ok := d.Scalar(v, kf, "a loss class"); ok {
					if !contains(LossClasses, s) {
						d.Errorf(v, kf, "want the ISO 22400 loss the reason counts against (%s), got %q", strings.Join(LossClasses, ", "), s)
					}
					r.Loss = s
				}
			}
		})
		if !ok {
			continue
		}
		switch {
		case codeNode == nil:
			d.Errorf(n, f, "want a code (code: material), the reason's stable id in the records")
		case r.Code != "" && seen[r.Code] != nil:
			d.Errorf(codeNode, f+".code", "code %q is already used at line %d; each reason needs its own code", r.Code, seen[r.Code].Line)
		case r.Code != "":
			seen[r.Code] = codeNode
		}
		if r.ZH == "" && r.EN == "" {
			d.Errorf(n, f, "want the reason's name in Chinese, English or both (zh: 等料, en: Waiting for material)")
		}
		if r.ZH == "" {
			r.ZH = r.EN
		}
		if r.EN == "" {
			r.EN = r.ZH
		}
		if kind == "stop_reason" && r.Loss == "" {
			r.Loss = LossAvailability
		}
		out = append(out, r)
	}
	return out
}

// name reads a reason's name: one line a screen shows.
func (d *decoder) name(v *yaml.Node, field string) string {
	s := strings.TrimSpace(d.Str(v, field))
	switch {
	case strings.ContainsAny(s, "\n\r"):
		d.Errorf(v, field, "want one line, got several")
	case utf8.RuneCountInString(s) > maxReasonName:
		d.Errorf(v, field, "want at most %d characters (a button's label), got %d", maxReasonName, utf8.RuneCountInString(s))
	}
	return s
}

// instructions reads an operation's work instructions, {zh, en}.
func (d *decoder) instructions(v *yaml.Node, field string) *Text {
	var t Text
	d.fields(v, "instructions", field, func(key string, v *yaml.Node) {
		kf := yamldec.Join(field, key)
		s := strings.TrimSpace(d.Str(v, kf))
		if n := utf8.RuneCountInString(s); n > maxInstructions {
			d.Errorf(v, kf, "want at most %d characters (what a phone shows beside the card; link to a longer document), got %d", maxInstructions, n)
		}
		if key == "zh" {
			t.ZH = s
		} else {
			t.EN = s
		}
	})
	if dv := yamldec.Deref(v); t.ZH == "" && t.EN == "" && (dv == nil || dv.Kind != yaml.MappingNode || len(dv.Content) == 0) {
		d.Errorf(v, field, "want the instructions in Chinese, English or both ({zh: …, en: …})")
		return nil
	}
	return &t
}

// scrapReasonRefs checks the scrap reasons operations name.
func (d *decoder) scrapReasonRefs() {
	for _, r := range d.scrapRefs {
		if d.p.ScrapReason(r.id) == nil {
			codes := make([]string, 0, len(d.p.ScrapReasons))
			for _, s := range d.p.ScrapReasons {
				codes = append(codes, s.Code)
			}
			have := "the plant lists none: add scrap_reasons at the top level"
			if len(codes) > 0 {
				have = "known: " + strings.Join(codes, ", ")
			}
			d.Errorf(r.node, r.field, "no scrap reason %q in scrap_reasons (%s)", r.id, have)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
