// Package font is the font of the twin's Chinese on paper and on screen
// (the job travellers' PDF, the desktop viewer): WenQuanYi Micro Hei
// 0.2.0-beta, TrueType outlines, Latin and CJK in one face, cut by make.sh
// to GB2312, ASCII, Latin-1, punctuation and the labels' and the
// reference plant's characters. Apache-2.0: LICENSE beside it.
package font

import _ "embed"

// TTF is the font file (TrueType, one face).
//
//go:embed wqy-microhei-gb2312.ttf
var TTF []byte
