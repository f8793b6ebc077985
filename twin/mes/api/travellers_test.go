package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/twin/mes"
	"twin/viz/web/e2e"
)

// zhPlant is the reference plant as a Chinese plant writes it: its
// motors' operations, products and work centres named in Chinese, and the
// motor's routing made longer than an A4 sheet's eight cards (its five
// operations, then six more: extra tests and packs).
func zhPlant(t *testing.T) *plant.Plant {
	p := loadPlant(t)
	names := map[string]string{"pressfit": "压装轴承", "assemble": "总装定子、转子、机座和端盖", "test": "出厂电气试验", "paint": "喷漆烘干", "pack": "铭牌、包装和标签"}
	for _, pr := range p.Products {
		pr.Name = "三相异步电动机 " + pr.ID
	}
	for _, wc := range p.WorkCenters {
		wc.Node.Name = "车间 " + wc.Node.ID
	}
	for _, rt := range p.Routings {
		if rt.ID != "motor" {
			continue
		}
		base := slices.Clone(rt.Ops)
		for _, op := range rt.Ops {
			op.Name = names[op.ID]
		}
		for i := range 6 {
			src := base[2+i%3] // test, paint, pack again
			op := *src
			op.ID = fmt.Sprintf("%s%d", src.ID, i+2)
			op.Name = fmt.Sprintf("%s（第 %d 次）", names[src.ID], i+2)
			op.Index = len(rt.Ops)
			rt.Ops = append(rt.Ops, &op)
		}
	}
	return p
}

func zhRig(t *testing.T) *rig {
	r := &rig{t: t, dir: t.TempDir(), p: zhPlant(t), clock: time.Date(2026, 3, 2, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)), count: map[string]float64{}}
	r.open()
	t.Cleanup(r.close)
	r.users()
	return r
}

// get fetches path as role and returns the status, the Content-Type and the body.
func (r *rig) get(role, path string) (int, http.Header, []byte) {
	r.t.Helper()
	req, _ := http.NewRequest("GET", r.srv.URL+"/api/v1"+path, nil)
	req.Header.Set("Authorization", "Bearer "+r.tok[role])
	resp, err := client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// outDir is where the travellers' pages are saved: $TRAVELLERS_OUT (to
// look at them), else a temporary directory.
func outDir(t *testing.T) string {
	if d := os.Getenv("TRAVELLERS_OUT"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: make deps installs it (poppler-utils, zbar-tools)", tool)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v %s", name, strings.Join(args, " "), err, msg)
	}
	return string(out)
}

// pdfPages returns the size of every page of a PDF in millimetres, read by
// pdfinfo (poppler).
func pdfPages(t *testing.T, file string) [][2]float64 {
	t.Helper()
	out := run(t, "pdfinfo", "-f", "1", "-l", "999", file)
	re := regexp.MustCompile(`Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts`)
	var pages [][2]float64
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		w, _ := strconv.ParseFloat(m[1], 64)
		h, _ := strconv.ParseFloat(m[2], 64)
		pages = append(pages, [2]float64{w * 25.4 / 72, h * 25.4 / 72})
	}
	if len(pages) == 0 {
		t.Fatalf("pdfinfo %s: no pages:\n%s", file, out)
	}
	return pages
}

// qrPages renders each page of a PDF to PNG (pdftoppm, 150 dpi) and
// decodes every QR code on it (zbarimg): the codes of each page.
func qrPages(t *testing.T, file string) [][]string {
	t.Helper()
	prefix := strings.TrimSuffix(file, ".pdf")
	run(t, "pdftoppm", "-r", "150", "-png", file, prefix)
	pngs, _ := filepath.Glob(prefix + "-[0-9]*.png")
	slices.Sort(pngs)
	var pages [][]string
	for _, png := range pngs {
		cmd := exec.Command("zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", png)
		out, err := cmd.Output()
		if err != nil && len(out) == 0 {
			t.Fatalf("zbarimg %s found no code: %v", png, err)
		}
		pages = append(pages, strings.Fields(string(out)))
	}
	return pages
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: decoded %d codes %q,\nwant the %d cards' tokens %q", what, len(g), g, len(w), w)
	}
}

// travellerOrder enters and releases an order and returns its final work
// order and the card token of each of its operations, in order.
func travellerOrder(t *testing.T, r *rig, customer string) (*mes.WorkOrder, []string) {
	due := time.Date(2026, 3, 4, 16, 0, 0, 0, r.p.Location)
	r.must("planner", "POST", "/orders", mes.NewOrder{ID: "SO-2001", Customer: customer, Product: "YE3-100L-4", Quantity: 5, Due: due}, nil, 201)
	r.must("planner", "POST", "/orders/SO-2001/release", nil, nil, 200)
	var w mes.WorkOrder
	r.must("planner", "GET", "/work-orders/SO-2001-YE3-100L-4", nil, &w, 200)
	var tokens []string
	for _, op := range w.Operations {
		var ci CardInfo
		r.must("planner", "GET", "/operations/"+op+"/card", nil, &ci, 200)
		tokens = append(tokens, ci.Token)
	}
	if len(tokens) != 11 {
		t.Fatalf("the motor's work order has %d operations, want 11", len(tokens))
	}
	return &w, tokens
}

// TestTravellersPDF prints a work order's travellers as a planner does,
// and reads them as the floor does: pdftotext finds the Chinese text (so
// the font is embedded and the text is Unicode), every QR code decodes
// (zbarimg, from pages rendered by pdftoppm) to exactly its operation's
// card token, an A4 sheet holds eight cards and a label is 100 × 70 mm.
func TestTravellersPDF(t *testing.T) {
	need(t, "pdftotext", "pdfinfo", "pdffonts", "pdftoppm", "zbarimg")
	r := zhRig(t)
	w, tokens := travellerOrder(t, r, "重庆长江电机有限公司")
	dir := outDir(t)

	// who may print them
	for role, want := range map[string]int{"planner": 200, "supervisor": 200, "operator": 403, "quality": 403} {
		if code, _, _ := r.get(role, "/work-orders/"+w.ID+"/travellers.pdf"); code != want {
			t.Errorf("travellers.pdf as %s: %d, want %d", role, code, want)
		}
	}
	if code, _, b := r.get("planner", "/work-orders/"+w.ID+"/travellers.pdf?size=a5"); code != 400 || !strings.Contains(string(b), "label") {
		t.Errorf("size=a5: %d %s, want 400 naming a4 and label", code, b)
	}
	if code, _, _ := r.get("planner", "/work-orders/SO-0000-X/travellers.pdf"); code != 404 {
		t.Errorf("an unknown work order: %d, want 404", code)
	}

	for _, tc := range []struct {
		size    string
		pages   int
		w, h    float64
		perPage []int
	}{
		{"a4", 2, 210, 297, []int{8, 3}},
		{"label", 11, 100, 70, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
	} {
		t.Run(tc.size, func(t *testing.T) {
			code, h, b := r.get("planner", "/work-orders/"+w.ID+"/travellers.pdf?size="+tc.size)
			if code != 200 || h.Get("Content-Type") != "application/pdf" {
				t.Fatalf("status %d, %s: %.200s", code, h.Get("Content-Type"), b)
			}
			file := filepath.Join(dir, "travellers-"+tc.size+".pdf")
			if err := os.WriteFile(file, b, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d bytes", file, len(b))
			pages := pdfPages(t, file)
			if len(pages) != tc.pages {
				t.Fatalf("%d pages, want %d", len(pages), tc.pages)
			}
			for i, p := range pages {
				if abs(p[0]-tc.w) > 0.2 || abs(p[1]-tc.h) > 0.2 {
					t.Errorf("page %d is %.1f × %.1f mm, want %v × %v", i+1, p[0], p[1], tc.w, tc.h)
				}
			}
			// the font is in the file, a subset, with a map back to Unicode
			fonts := run(t, "pdffonts", file)
			if !regexp.MustCompile(`[A-Z]{6}\+\S+\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes`).MatchString(fonts) {
				t.Errorf("the font is not embedded as a subset with ToUnicode:\n%s", fonts)
			}
			// pdftotext guesses spaces from the gaps between glyphs: compare without them
			text := run(t, "pdftotext", "-layout", file, "-")
			flat := strings.Join(strings.Fields(text), "")
			for _, want := range []string{"工序流转卡", "重庆长江电机有限公司", "三相异步电动机 YE3-100L-4", "压装轴承", "出厂电气试验（第 5 次）",
				"车间 pressfit (PF1)", "SO-2001", w.ID, "5 件", "2026-03-04 16:00 Asia/Shanghai", "第 1 / 11 道", "第 11 / 11 道", "操作者", "检验员"} {
				if !strings.Contains(flat, strings.ReplaceAll(want, " ", "")) {
					t.Errorf("pdftotext does not find %q in:\n%s", want, text)
				}
			}
			qr := qrPages(t, file)
			var all []string
			var per []int
			for _, p := range qr {
				per = append(per, len(p))
				all = append(all, p...)
			}
			if !slices.Equal(per, tc.perPage) {
				t.Errorf("codes per page %v, want %v", per, tc.perPage)
			}
			sameSet(t, "the PDF's codes", all, tokens)
			if tc.size == "label" {
				for i, p := range qr { // each label is its operation's, in the routing's order
					if len(p) == 1 && p[0] != tokens[i] {
						t.Errorf("label %d carries %s, want %s", i+1, p[0], tokens[i])
					}
				}
			}
		})
	}
}

// TestTravellersHTML prints the HTML travellers from headless Chromium,
// as a planner's browser does (page.pdf, the page's own @page size), the
// page served by the API with its Content-Security-Policy: no console
// error (a refused style would be one), nothing sticking out of a card or
// a page, even with a 200-character customer, and every QR code of the
// printed pages decodes to its operation's token.
func TestTravellersHTML(t *testing.T) {
	need(t, "pdfinfo", "pdftoppm", "zbarimg", "node", "/usr/bin/chromium")
	if _, err := os.Stat(filepath.Join(e2e.Dir(), "node_modules/playwright-core")); err != nil {
		t.Fatal("playwright-core is missing: make deps (npm ci in viz/web/e2e)")
	}
	r := zhRig(t)
	long := strings.Repeat("重庆长江电机有限公司", 20) // 200 characters
	w, tokens := travellerOrder(t, r, long)
	dir := outDir(t)
	script, _ := filepath.Abs("../traveller/testdata/print.js")
	for _, tc := range []struct {
		size  string
		pages int
		w, h  float64
	}{{"a4", 2, 210, 297}, {"label", 11, 100, 70}} {
		t.Run(tc.size, func(t *testing.T) {
			code, h, b := r.get("planner", "/work-orders/"+w.ID+"/travellers.html?size="+tc.size)
			if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
				t.Fatalf("status %d, %s", code, h.Get("Content-Type"))
			}
			if s := string(b); strings.Contains(s, "<script") || strings.Contains(s, " style=") || !strings.Contains(s, long) {
				t.Errorf("the page has a script or a style attribute, or not the whole customer")
			}
			pdf := filepath.Join(dir, "travellers-html-"+tc.size+".pdf")
			png := filepath.Join(dir, "screen-travellers-html-"+tc.size+".png")
			cmd := exec.Command("node", script, r.srv.URL+"/api/v1/work-orders/"+w.ID+"/travellers.html?size="+tc.size, pdf, png)
			cmd.Env = append(os.Environ(), "E2E_DIR="+e2e.Dir(), "TWIN_TOKEN="+r.tok["planner"], "TZ=UTC")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("print.js: %v\n%s", err, stderr.String())
			}
			var rep struct {
				Cards, Sheets, Status int
				Overflow, Errors      []string
				Sideways              bool
				CSP                   string
			}
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("print.js said %q: %v", out, err)
			}
			if rep.Status != 200 || !strings.Contains(rep.CSP, "style-src 'sha256-") || strings.Contains(rep.CSP, "script-src") && !strings.Contains(rep.CSP, "'none'") {
				t.Errorf("status %d, CSP %q", rep.Status, rep.CSP)
			}
			if len(rep.Errors) > 0 {
				t.Errorf("console errors: %q", rep.Errors)
			}
			if rep.Cards != 11 || rep.Sheets != tc.pages {
				t.Errorf("%d cards on %d sheets, want 11 on %d", rep.Cards, rep.Sheets, tc.pages)
			}
			if len(rep.Overflow) > 0 || rep.Sideways {
				t.Errorf("overflow (sideways %v): %q", rep.Sideways, rep.Overflow)
			}
			pages := pdfPages(t, pdf)
			if len(pages) != tc.pages {
				t.Fatalf("Chromium printed %d pages, want %d", len(pages), tc.pages)
			}
			for i, p := range pages {
				if abs(p[0]-tc.w) > 0.5 || abs(p[1]-tc.h) > 0.5 {
					t.Errorf("printed page %d is %.1f × %.1f mm, want %v × %v", i+1, p[0], p[1], tc.w, tc.h)
				}
			}
			var all []string
			for _, p := range qrPages(t, pdf) {
				all = append(all, p...)
			}
			sameSet(t, "the printed HTML's codes", all, tokens)
		})
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
