// Command mkfont makes the travellers' font: a subset of a TrueType font
// (WenQuanYi Micro Hei) holding GB2312 (its 7,445 characters: the 6,763
// hanzi of simplified Chinese, punctuation, kana, Greek, Cyrillic, full
// width forms), ASCII, Latin-1, general punctuation, CJK symbols and every
// character of the files named on the command line (the labels, the
// reference plant). GB2312 is decoded by iconv (glibc). font/make.sh runs it.
//
//	go run ./twin/mes/traveller/internal/mkfont -src wqy-microhei.ttc -out font.ttf FILE...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"

	"twin/twin/mes/traveller/internal/ttf"
)

func main() {
	src := flag.String("src", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "the TrueType font (or collection: its first font)")
	out := flag.String("out", "", "the subset font to write")
	flag.Parse()
	if err := run(*src, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mkfont:", err)
		os.Exit(1)
	}
}

func gb2312() ([]rune, error) {
	var b bytes.Buffer
	for hi := 0xA1; hi <= 0xF7; hi++ {
		for lo := 0xA1; lo <= 0xFE; lo++ {
			b.WriteByte(byte(hi))
			b.WriteByte(byte(lo))
		}
	}
	cmd := exec.Command("iconv", "-c", "-f", "GB2312", "-t", "UTF-8")
	cmd.Stdin = &b
	u, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("iconv GB2312 → UTF-8: %w", err)
	}
	return []rune(string(u)), nil
}

func run(src, out string, files []string) error {
	if out == "" {
		return fmt.Errorf("-out FILE is required")
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := ttf.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	want := map[rune]bool{}
	gb, err := gb2312()
	if err != nil {
		return err
	}
	if len(gb) < 7000 {
		return fmt.Errorf("iconv gave %d GB2312 characters, want 7,445", len(gb))
	}
	for _, r := range gb {
		want[r] = true
	}
	for _, span := range [][2]rune{{0x20, 0x7E}, {0xA0, 0xFF}, {0x2010, 0x205F}, {0x20AC, 0x20AC}, {0x2100, 0x215F}, {0x2190, 0x21FF}, {0x2460, 0x24FF}, {0x2500, 0x257F}, {0x25A0, 0x25FF}, {0x3000, 0x303F}, {0xFF00, 0xFFEF}} {
		for r := span[0]; r <= span[1]; r++ {
			want[r] = true
		}
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		for _, r := range string(b) {
			if r >= 0x20 {
				want[r] = true
			}
		}
	}
	rs := make([]rune, 0, len(want))
	for r := range want {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	gids := []uint16{0}
	cmap := map[rune]uint16{}
	missing := 0
	for _, r := range rs {
		g := f.Glyph(r)
		if g == 0 {
			missing++
			continue
		}
		cmap[r] = uint16(len(gids))
		gids = append(gids, g)
	}
	sub, err := f.Subset(gids, cmap)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, sub, 0o644); err != nil {
		return err
	}
	fmt.Printf("%s: %d characters of %d asked (%d not in %s), %d bytes (from %d)\n", out, len(cmap), len(rs), missing, src, len(sub), len(data))
	return nil
}
