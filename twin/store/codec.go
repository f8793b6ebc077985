package store

import (
	"encoding/binary"
	"errors"
	"math"

	"twin/plant/event"
)

// ErrCorrupt reports an event record that cannot be decoded.
var ErrCorrupt = errors.New("store: corrupt event record")

// AppendEvent appends the record of e (all but its time, which is in the
// key): version, kind, quality, source, asset, name, ref (length-prefixed)
// and the value's IEEE 754 bits.
func AppendEvent(b []byte, e *event.Event) []byte {
	b = append(b, 1, byte(e.Kind), byte(e.Quality), byte(e.Source))
	for _, s := range [3]string{e.Asset, e.Name, e.Ref} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(e.Value))
}

// DecodeEvent decodes a record into e (its Time is left alone).
func DecodeEvent(b []byte, e *event.Event) error {
	if len(b) < 4+3+8 || b[0] != 1 {
		return ErrCorrupt
	}
	e.Kind, e.Quality, e.Source = event.Kind(b[1]), event.Quality(b[2]), event.Source(b[3])
	b = b[4:]
	var strs [3]string
	for i := range strs {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return ErrCorrupt
		}
		strs[i] = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	if len(b) != 8 {
		return ErrCorrupt
	}
	e.Asset, e.Name, e.Ref = strs[0], strs[1], strs[2]
	e.Value = math.Float64frombits(binary.LittleEndian.Uint64(b))
	return nil
}
