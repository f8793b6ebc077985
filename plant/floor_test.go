package plant

import (
	"errors"
	"strings"
	"testing"
)

// TestFloorMotorPlant: the reference plant opens its screens in Chinese,
// lists the stop reasons of the shop floor and the scrap reasons of
// motor making, and gives each operation its work instructions.
func TestFloorMotorPlant(t *testing.T) {
	p, err := Load("../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Locale != LocaleZH {
		t.Errorf("locale %q, want zh-CN", p.Locale)
	}
	want := map[string]string{"material": "等料", "changeover": "换型", "breakdown": "故障", "quality": "质量", "no_operator": "无人"}
	for code, zh := range want {
		r := p.DowntimeReason(code)
		if r == nil || r.ZH != zh || r.EN == "" || r.Loss == "" {
			t.Errorf("downtime reason %s: %+v, want %s with an English name and a loss class", code, r, zh)
		}
	}
	if r := p.DowntimeReason("changeover"); r == nil || r.Loss != LossSetup {
		t.Errorf("changeover counts against %+v, want setup", r)
	}
	if r := p.DowntimeReason("material"); r == nil || r.Loss != LossAvailability {
		t.Errorf("material counts against %+v, want availability (the default)", r)
	}
	if len(p.ScrapReasons) < 4 || p.ScrapReason("winding_short") == nil || p.ScrapReason("winding_short").ZH != "匝间短路" {
		t.Errorf("scrap reasons %+v", p.ScrapReasons)
	}
	for _, r := range p.Routings {
		for _, op := range r.Ops {
			if op.Instructions == nil || op.Instructions.ZH == "" || op.Instructions.EN == "" {
				t.Errorf("%s.%s: instructions %+v, want Chinese and English", r.ID, op.ID, op.Instructions)
			}
			for _, c := range op.ScrapReasons {
				if p.ScrapReason(c) == nil {
					t.Errorf("%s.%s: scrap reason %s not in the plant's list", r.ID, op.ID, c)
				}
			}
		}
	}
}

// TestFloorDefaults: a plant without the floor's keys opens in English
// with no reasons; a reason named in one language only takes it in both.
func TestFloorDefaults(t *testing.T) {
	p, err := Parse("p.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if p.Locale != LocaleEN || p.DowntimeReasons != nil || p.ScrapReasons != nil || p.Routings[0].Ops[0].Instructions != nil {
		t.Errorf("defaults: locale %q, reasons %v %v, instructions %v", p.Locale, p.DowntimeReasons, p.ScrapReasons, p.Routings[0].Ops[0].Instructions)
	}
	src := strings.Replace(base, "calendar: always\n", "calendar: always\nlocale: en\ndowntime_reasons: [{code: jam, en: Jammed}]\n", 1)
	p, err = Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.DowntimeReason("jam"); r == nil || r.ZH != "Jammed" || r.Loss != LossAvailability {
		t.Errorf("jam: %+v", r)
	}
}

// TestFloorErrors: each mistake in the floor's keys is reported at its
// line and column, under its field, saying what was expected.
func TestFloorErrors(t *testing.T) {
	cases := []struct {
		name, old, new string
		line, col      int
		field, msg     string
	}{
		{"locale", "calendar: always\n", "calendar: always\nlocale: fr\n", 5, 9, "locale", "want zh-CN (Simplified Chinese) or en (English), got \"fr\""},
		{"locale spelling", "calendar: always\n", "calendar: always\nlocale: zh\n", 5, 9, "locale", "write zh-CN"},
		{"duplicate downtime code", "calendar: always\n", "calendar: always\ndowntime_reasons: [{code: jam, zh: 卡料}, {code: jam, en: Jam}]\n", 5, 48, "downtime_reasons.1.code", `code "jam" is already used at line 5`},
		{"duplicate scrap code", "calendar: always\n", "calendar: always\nscrap_reasons:\n  - {code: burr, zh: 毛刺}\n  - {code: burr, zh: 毛刺2}\n", 7, 12, "scrap_reasons.1.code", `code "burr" is already used at line 6`},
		{"code not snake_case", "calendar: always\n", "calendar: always\ndowntime_reasons: [{code: No Operator, zh: 无人}]\n", 5, 27, "downtime_reasons.0.code", "want a code in snake_case"},
		{"no code", "calendar: always\n", "calendar: always\ndowntime_reasons: [{zh: 无人}]\n", 5, 20, "downtime_reasons.0", "want a code"},
		{"no name", "calendar: always\n", "calendar: always\nscrap_reasons: [{code: burr}]\n", 5, 17, "scrap_reasons.0", "name in Chinese, English or both"},
		{"unknown loss", "calendar: always\n", "calendar: always\ndowntime_reasons: [{code: jam, en: Jam, loss: quality}]\n", 5, 47, "downtime_reasons.0.loss", "want the ISO 22400 loss the reason counts against (availability, setup, planned)"},
		{"unknown scrap reason", "time: 1h}", "time: 1h, scrap_reasons: [burr]}", 16, 60, "routings.r.operations.op.scrap_reasons[0]", `no scrap reason "burr" in scrap_reasons (the plant lists none`},
		{"unknown scrap reason, known listed", "calendar: always\n", "calendar: always\nscrap_reasons: [{code: dent, en: Dent}]\n", 0, 0, "", ""},
		{"empty instructions", "time: 1h}", "time: 1h, instructions: {}}", 16, 58, "routings.r.operations.op.instructions", "want the instructions in Chinese, English or both"},
		{"unknown key in instructions", "time: 1h}", "time: 1h, instructions: {de: Hallo}}", 16, 59, "routings.r.operations.op.instructions.de", "unknown key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(base, c.old, c.new, 1)
			if src == base {
				t.Fatalf("%q not in the base plant", c.old)
			}
			if c.name == "unknown scrap reason, known listed" {
				src = strings.Replace(src, "time: 1h}", "time: 1h, scrap_reasons: [dent, burr]}", 1)
				c.line, c.col, c.field, c.msg = 17, 66, "routings.r.operations.op.scrap_reasons[1]", `no scrap reason "burr" in scrap_reasons (known: dent)`
			}
			_, err := Parse("p.yaml", []byte(src))
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("want Errors, got %v", err)
			}
			e := es[0]
			if e.File != "p.yaml" || e.Line != c.line || e.Column != c.col || e.Field != c.field || !strings.Contains(e.Msg, c.msg) {
				t.Errorf("got  %v\nwant p.yaml:%d:%d: %s: …%s…", e, c.line, c.col, c.field, c.msg)
			}
		})
	}
}
