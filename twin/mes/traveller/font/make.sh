#!/bin/sh
# Makes wqy-microhei-gb2312.ttf, the font the travellers' PDF embeds (a
# subset of it per document): GB2312, ASCII, Latin-1, punctuation and the
# characters of the labels and of the reference plant, from WenQuanYi Micro
# Hei 0.2.0-beta (Debian fonts-wqy-microhei; Apache-2.0, see LICENSE here).
# Run it from anywhere; it needs Go and iconv. Run it again when the labels
# (../labels.go) gain characters outside GB2312.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-/usr/share/fonts/truetype/wqy/wqy-microhei.ttc}
cd "$here/../../../.."
go run ./twin/mes/traveller/internal/mkfont -src "$src" -out "$here/wqy-microhei-gb2312.ttf" \
	twin/mes/traveller/labels.go plant/reference/motor.yaml
