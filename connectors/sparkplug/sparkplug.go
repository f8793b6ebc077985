// Package sparkplug reads and writes Sparkplug B (spBv1.0) messages: the
// topic namespace, the protobuf payload of Eclipse Tahu's sparkplug_b.proto
// (the fields a plant's metrics use), and the host-side session of each
// edge node: births define the metrics and their aliases, data messages
// refer to them by alias, sequence numbers 0–255 detect lost messages, and
// deaths mark the node's values stale.
//
// It is hand-written on protowire (no generated code): the payload is
// small and stable, and a decoder written for hostile input is easier to
// make robust than generated code is to audit.
package sparkplug

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// Namespace is the topic namespace of Sparkplug B.
const Namespace = "spBv1.0"

// Message types.
const (
	NBIRTH = "NBIRTH"
	NDATA  = "NDATA"
	NDEATH = "NDEATH"
	NCMD   = "NCMD"
	DBIRTH = "DBIRTH"
	DDATA  = "DDATA"
	DDEATH = "DDEATH"
	DCMD   = "DCMD"
	STATE  = "STATE"
)

// Topic is a parsed Sparkplug topic.
type Topic struct {
	Group, Type, EdgeNode, Device string
}

func (t Topic) String() string {
	s := Namespace + "/" + t.Group + "/" + t.Type + "/" + t.EdgeNode
	if t.Device != "" {
		s += "/" + t.Device
	}
	return s
}

// ParseTopic parses spBv1.0/group/TYPE/edge[/device].
func ParseTopic(s string) (Topic, error) {
	p := strings.Split(s, "/")
	if len(p) < 4 || len(p) > 5 || p[0] != Namespace {
		return Topic{}, fmt.Errorf("not a Sparkplug B topic: %q", s)
	}
	t := Topic{Group: p[1], Type: p[2], EdgeNode: p[3]}
	if len(p) == 5 {
		t.Device = p[4]
	}
	switch t.Type {
	case NBIRTH, NDATA, NDEATH, NCMD:
		if t.Device != "" {
			return Topic{}, fmt.Errorf("%s with a device id: %q", t.Type, s)
		}
	case DBIRTH, DDATA, DDEATH, DCMD:
		if t.Device == "" {
			return Topic{}, fmt.Errorf("%s without a device id: %q", t.Type, s)
		}
	default:
		return Topic{}, fmt.Errorf("unknown Sparkplug message type %q", t.Type)
	}
	if t.Group == "" || t.EdgeNode == "" {
		return Topic{}, fmt.Errorf("empty group or edge node id: %q", s)
	}
	return t, nil
}

// Data types (Tahu DataType) the codec reads and writes.
const (
	Int8     uint32 = 1
	Int16    uint32 = 2
	Int32    uint32 = 3
	Int64    uint32 = 4
	UInt8    uint32 = 5
	UInt16   uint32 = 6
	UInt32   uint32 = 7
	UInt64   uint32 = 8
	Float    uint32 = 9
	Double   uint32 = 10
	Boolean  uint32 = 11
	String   uint32 = 12
	DateTime uint32 = 13
	Text     uint32 = 14
)

// Metric is one metric of a payload. Value holds numbers (and booleans as
// 0/1); Str holds strings.
type Metric struct {
	Name      string
	Alias     uint64
	HasAlias  bool
	Timestamp uint64 // ms since the Unix epoch; 0: the payload's
	DataType  uint32
	IsNull    bool
	Value     float64
	Str       string
}

// String describes m for a person or a log: its name or alias, data
// type, value and timestamp.
func (m *Metric) String() string {
	s := strconv.Quote(m.Name)
	if m.HasAlias {
		s += " (alias " + strconv.FormatUint(m.Alias, 10) + ")"
	}
	s += " " + dataTypeName(m.DataType) + " = "
	switch {
	case m.IsNull:
		s += "null"
	case m.DataType == String || m.DataType == Text:
		s += strconv.Quote(m.Str)
	default:
		s += strconv.FormatFloat(m.Value, 'g', -1, 64)
	}
	return s + ", timestamp " + strconv.FormatUint(m.Timestamp, 10) + " ms"
}

var dataTypeNames = map[uint32]string{Int8: "Int8", Int16: "Int16", Int32: "Int32", Int64: "Int64", UInt8: "UInt8", UInt16: "UInt16",
	UInt32: "UInt32", UInt64: "UInt64", Float: "Float", Double: "Double", Boolean: "Boolean", String: "String", DateTime: "DateTime", Text: "Text"}

func dataTypeName(t uint32) string {
	if n, ok := dataTypeNames[t]; ok {
		return n
	}
	return "DataType" + strconv.FormatUint(uint64(t), 10)
}

// Payload is a Sparkplug B payload.
type Payload struct {
	Timestamp uint64 // ms since the Unix epoch
	Metrics   []Metric
	Seq       uint64
	HasSeq    bool
}

// Marshal encodes p.
func (p *Payload) Marshal() []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, p.Timestamp)
	for i := range p.Metrics {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, p.Metrics[i].marshal())
	}
	if p.HasSeq {
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, p.Seq)
	}
	return b
}

func (m *Metric) marshal() []byte {
	var b []byte
	if m.Name != "" {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, m.Name)
	}
	if m.HasAlias {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, m.Alias)
	}
	if m.Timestamp != 0 {
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, m.Timestamp)
	}
	b = protowire.AppendTag(b, 4, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(m.DataType))
	if m.IsNull {
		b = protowire.AppendTag(b, 7, protowire.VarintType)
		return protowire.AppendVarint(b, 1)
	}
	switch m.DataType {
	case Int8, Int16, Int32, UInt8, UInt16, UInt32:
		b = protowire.AppendTag(b, 10, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(uint32(int64(m.Value))))
	case Int64, UInt64, DateTime:
		b = protowire.AppendTag(b, 11, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(m.Value)))
	case Float:
		b = protowire.AppendTag(b, 12, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(float32(m.Value)))
	case Double:
		b = protowire.AppendTag(b, 13, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(m.Value))
	case Boolean:
		v := uint64(0)
		if m.Value != 0 {
			v = 1
		}
		b = protowire.AppendTag(b, 14, protowire.VarintType)
		b = protowire.AppendVarint(b, v)
	case String, Text:
		b = protowire.AppendTag(b, 15, protowire.BytesType)
		b = protowire.AppendString(b, m.Str)
	}
	return b
}

// ErrMalformed wraps every decoding error.
var ErrMalformed = errors.New("sparkplug: malformed payload")

// Unmarshal decodes a payload. Fields it does not know are skipped.
func Unmarshal(b []byte) (*Payload, error) {
	p := &Payload{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, fmt.Errorf("%w: timestamp", ErrMalformed)
			}
			p.Timestamp, b = v, b[n:]
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, fmt.Errorf("%w: metric", ErrMalformed)
			}
			m, err := unmarshalMetric(v)
			if err != nil {
				return nil, err
			}
			if len(p.Metrics) >= 100000 {
				return nil, fmt.Errorf("%w: too many metrics", ErrMalformed)
			}
			p.Metrics = append(p.Metrics, m)
			b = b[n:]
		case num == 3 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, fmt.Errorf("%w: seq", ErrMalformed)
			}
			p.Seq, p.HasSeq, b = v, true, b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, fmt.Errorf("%w: field %d", ErrMalformed, num)
			}
			b = b[n:]
		}
	}
	return p, nil
}

func unmarshalMetric(b []byte) (Metric, error) {
	var m Metric
	bad := func(what string) (Metric, error) { return Metric{}, fmt.Errorf("%w: metric %s", ErrMalformed, what) }
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return bad("tag")
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return bad("varint")
			}
			b = b[n:]
			switch num {
			case 2:
				m.Alias, m.HasAlias = v, true
			case 3:
				m.Timestamp = v
			case 4:
				m.DataType = uint32(v)
			case 7:
				m.IsNull = v != 0
			case 10:
				switch m.DataType {
				case Int8, Int16, Int32:
					m.Value = float64(int32(uint32(v)))
				default:
					m.Value = float64(uint32(v))
				}
			case 11:
				if m.DataType == Int64 {
					m.Value = float64(int64(v))
				} else {
					m.Value = float64(v)
				}
			case 14:
				m.Value = 0
				if v != 0 {
					m.Value = 1
				}
			}
		case protowire.Fixed32Type:
			v, n := protowire.ConsumeFixed32(b)
			if n < 0 {
				return bad("fixed32")
			}
			b = b[n:]
			if num == 12 {
				m.Value = float64(math.Float32frombits(v))
			}
		case protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(b)
			if n < 0 {
				return bad("fixed64")
			}
			b = b[n:]
			if num == 13 {
				m.Value = math.Float64frombits(v)
			}
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return bad("bytes")
			}
			b = b[n:]
			switch num {
			case 1:
				m.Name = string(v)
			case 15:
				m.Str = string(v)
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return bad(fmt.Sprintf("field %d", num))
			}
			b = b[n:]
		}
	}
	return m, nil
}
