package traveller

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"twin/twin/mes/traveller/internal/pdf"
)

// TestLongValuesFit lays out cards whose values are far too long (a
// 200-character customer, a 150-character product, an operation name of
// 120 characters, Chinese and Latin): every line fits its column, no value
// takes more lines than it may, the table fits above the sign-off row, and
// what had to be cut ends with "…".
func TestLongValuesFit(t *testing.T) {
	d, err := pdf.New(Font)
	if err != nil {
		t.Fatal(err)
	}
	m := measure(d.Width)
	width := tableRight - tableX - labelW
	s := sample(t, "重庆长江电机有限公司")
	for _, tc := range []struct{ name, customer, product, op string }{
		{"short", "渝北电机", "YE3-100L-4", "压装"},
		{"chinese", strings.Repeat("重庆长江电机有限公司", 20), strings.Repeat("三相异步电动机", 20), strings.Repeat("总装定子转子", 20)},
		{"latin", strings.Repeat("Chongqing Yangtze Electric Motor Co. ", 6), strings.Repeat("W", 150), strings.Repeat("Assemble stator ", 8)},
		{"one word", strings.Repeat("x", 200), strings.Repeat("9", 150), strings.Repeat("—", 120)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.Cards[0]
			c.Customer, c.Product, c.Name, c.Item = tc.customer, tc.product, tc.op, tc.product
			rows := s.layoutTable(&c, m)
			total := 0.0
			for _, r := range rows {
				if len(r.lines) > r.field.lines {
					t.Errorf("%s: %d lines, at most %d", r.label, len(r.lines), r.field.lines)
				}
				if r.size < 4.2 {
					t.Errorf("%s: %.1f pt, too small to read", r.label, r.size)
				}
				for _, l := range r.lines {
					if w := d.Width(l, r.size); w > width+1e-9 {
						t.Errorf("%s: line %q is %.1f mm wide, the column %.1f", r.label, l, w, width)
					}
				}
				joined := strings.Join(r.lines, "")
				if cut := strings.HasSuffix(joined, "…") && !strings.HasSuffix(r.value, "…"); !cut && strings.ReplaceAll(joined, " ", "") != strings.ReplaceAll(r.value, " ", "") {
					t.Errorf("%s: %q lost text without saying so (%q)", r.label, joined, r.value)
				}
				total += r.height()
			}
			if total > tableBottom-tableTop {
				t.Errorf("the table is %.1f mm tall, its room %.1f mm: it would overprint the sign-off row", total, tableBottom-tableTop)
			}
			if tc.name == "short" && rows[3].size != 8 {
				t.Errorf("a short customer is set at %.1f pt, want its full 8 pt", rows[3].size)
			}
		})
	}
}

// TestStyleHash: the CSP names the style sheet the page carries, byte for
// byte (html/template must not change it), and the page has no script.
func TestStyleHash(t *testing.T) {
	s := sample(t, "重庆长江电机有限公司")
	for _, size := range []Size{A4, Label} {
		var b bytes.Buffer
		if err := s.HTML(&b, size); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		if !strings.Contains(page, "<style>"+Style(size)+"</style>") {
			t.Errorf("%s: the page's style is not Style(%s) verbatim", size, size)
		}
		if strings.Contains(page, "<script") || strings.Contains(page, " style=") {
			t.Errorf("%s: the page has a script or a style attribute", size)
		}
		if n := strings.Count(page, `<article class="card`); n != len(s.Cards) {
			t.Errorf("%s: %d cards, want %d", size, n, len(s.Cards))
		}
	}
}

// TestLocale: the cards speak the plant file's locale.
func TestLocale(t *testing.T) {
	s := sample(t, "Wuhan Pumps")
	if s.Locale != "zh-CN" || s.Words.Title != "工序流转卡" || s.StepText(&s.Cards[0]) != "第 1 / 5 道" {
		t.Errorf("the reference plant (locale zh-CN): %s, %q, %q", s.Locale, s.Words.Title, s.StepText(&s.Cards[0]))
	}
	p, o, w, ops := sampleOrder(t, "Wuhan Pumps")
	p.Locale = "en"
	e := Build(p, o, w, ops, func(string) string { return "x" }, s.Printed)
	if e.Words.Title != "Job traveller" || e.StepText(&e.Cards[1]) != "step 2 of 5" || !strings.Contains(e.fields(&e.Cards[0])[6].value, "5 pcs") {
		t.Errorf("a plant in en: %q, %q, %q", e.Words.Title, e.StepText(&e.Cards[1]), e.fields(&e.Cards[0])[6].value)
	}
}

// TestFontCovers: the embedded font has every character of the labels
// and of the reference plant file (font/make.sh cuts it to them and
// GB2312): none prints as an empty box.
func TestFontCovers(t *testing.T) {
	d, err := pdf.New(Font)
	if err != nil {
		t.Fatal(err)
	}
	plantFile, err := os.ReadFile("../../../plant/reference/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"the labels": fmt.Sprint(words), "the reference plant": string(plantFile), "GB2312's first and last hanzi": "啊齄"} {
		var missing []rune
		for _, r := range text {
			if r > ' ' && !d.Has(r) {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s: the font lacks %q: run font/make.sh", what, string(missing))
		}
	}
}
