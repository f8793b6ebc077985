package pdf

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrite writes a two-page document and reads it back with poppler:
// its pages' sizes, its title (UTF-16 in the info dictionary), its text
// through the ToUnicode map, and a character the font lacks counted.
func TestWrite(t *testing.T) {
	for _, tool := range []string{"pdfinfo", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: make deps installs poppler-utils", tool)
		}
	}
	font, err := os.ReadFile("../../font/wqy-microhei-gb2312.ttf")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(font)
	if err != nil {
		t.Fatal(err)
	}
	d.Title = "工序流转卡 (PO-1)"
	p := d.Page(100, 70)
	p.Text(5, 10, 12, "工序流转卡 ABC-123")
	p.Box(1, 1, 98, 68, 0.3)
	p.Rects([][4]float64{{10, 20, 5, 5}, {20, 20, 5, 5}})
	q := d.Page(210, 297)
	q.Text(20, 20, 10, "重庆 𠀀 end")
	if d.Missing != 1 {
		t.Errorf("Missing %d, want 1 (U+20000 is not in the font)", d.Missing)
	}
	file := filepath.Join(t.TempDir(), "t.pdf")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Write(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	info, err := exec.Command("pdfinfo", "-f", "1", "-l", "2", file).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, info)
	}
	for _, want := range []string{"Title:           工序流转卡 (PO-1)", "Pages:           2", "Page    1 size:  283.465 x 198.425 pts", "Page    2 size:  595.276 x 841.89 pts (A4)"} {
		if !strings.Contains(string(info), want) {
			t.Errorf("pdfinfo lacks %q:\n%s", want, info)
		}
	}
	text, err := exec.Command("pdftotext", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"工序流转卡 ABC-123", "重庆", "end"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("pdftotext lacks %q:\n%s", want, text)
		}
	}
}
