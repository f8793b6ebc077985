package desk

import (
	"bytes"
	"image/color"
	"sync"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"twin/twin/mes/traveller/font"
)

// The viewer writes with the twin's CJK font (Ebitengine's debug font
// has no Chinese), 13 px on 16 px lines.
const (
	textSize   = 13
	lineHeight = 16
)

var (
	faceOnce sync.Once
	face     *text.GoTextFace
)

func textFace() *text.GoTextFace {
	faceOnce.Do(func() {
		src, err := text.NewGoTextFaceSource(bytes.NewReader(font.TTF))
		if err != nil {
			panic("the embedded font: " + err.Error()) // a broken build: TestScreenshot fails first
		}
		face = &text.GoTextFace{Source: src, Size: textSize}
	})
	return face
}

var colText = color.RGBA{0xe4, 0xe7, 0xeb, 0xff}

// print writes s with its top left at (x, y).
func print(dst *ebiten.Image, s string, x, y int) {
	op := &text.DrawOptions{}
	op.GeoM.Translate(float64(x), float64(y))
	op.ColorScale.ScaleWithColor(colText)
	text.Draw(dst, s, textFace(), op)
}

// printRight writes s ending at x.
func printRight(dst *ebiten.Image, s string, x, y int) {
	print(dst, s, x-textWidth(s), y)
}

// textWidth is how wide s is written, in pixels.
func textWidth(s string) int {
	w, _ := text.Measure(s, textFace(), lineHeight)
	return int(w + 0.5)
}
