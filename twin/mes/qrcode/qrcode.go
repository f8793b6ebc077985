// Package qrcode renders operation-card QR codes: PNG and SVG drawn from
// one module matrix, so both carry the same code. The encoding (ISO/IEC
// 18004, error-correction level M: a card survives 15% of its modules
// smudged) is rsc.io/qr's.
package qrcode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"rsc.io/qr"
)

// quiet is the white margin around the code, in modules (the standard's).
const quiet = 4

// Code is an encoded QR code.
type Code struct {
	Size    int // modules per side, without the quiet zone
	modules []bool
}

// Encode encodes text at error-correction level M.
func Encode(text string) (*Code, error) {
	q, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, fmt.Errorf("qrcode: %w", err)
	}
	c := &Code{Size: q.Size, modules: make([]bool, q.Size*q.Size)}
	for y := 0; y < q.Size; y++ {
		for x := 0; x < q.Size; x++ {
			c.modules[y*q.Size+x] = q.Black(x, y)
		}
	}
	return c, nil
}

// Black reports whether module (x, y) is dark; false outside the matrix.
func (c *Code) Black(x, y int) bool {
	if x < 0 || y < 0 || x >= c.Size || y >= c.Size {
		return false
	}
	return c.modules[y*c.Size+x]
}

// PNG renders the code with a quiet zone, scale pixels per module.
func (c *Code) PNG(scale int) []byte {
	if scale < 1 {
		scale = 4
	}
	n := (c.Size + 2*quiet) * scale
	img := image.NewGray(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			v := uint8(255)
			if c.Black(x/scale-quiet, y/scale-quiet) {
				v = 0
			}
			img.SetGray(x, y, color.Gray{v})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// SVG renders the code as a standalone SVG: a white square and one path
// of the dark modules, merged into horizontal runs.
func (c *Code) SVG(scale int) []byte {
	if scale < 1 {
		scale = 4
	}
	n := c.Size + 2*quiet
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n*scale, n*scale, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; {
			if !c.Black(x, y) {
				x++
				continue
			}
			run := 1
			for c.Black(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+quiet, y+quiet, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>` + "\n")
	return b.Bytes()
}
