package sparkplug

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"twin/connectors/sparkplug/internal/tahupb"
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

// Data types (Tahu's DataType) of the metrics the codec carries a value
// for; a metric of another type (UUID, DataSet, Bytes, File, Template,
// the arrays) decodes with its DataType and no value.
const (
	Int8     uint32 = uint32(tahupb.DataType_Int8)
	Int16    uint32 = uint32(tahupb.DataType_Int16)
	Int32    uint32 = uint32(tahupb.DataType_Int32)
	Int64    uint32 = uint32(tahupb.DataType_Int64)
	UInt8    uint32 = uint32(tahupb.DataType_UInt8)
	UInt16   uint32 = uint32(tahupb.DataType_UInt16)
	UInt32   uint32 = uint32(tahupb.DataType_UInt32)
	UInt64   uint32 = uint32(tahupb.DataType_UInt64)
	Float    uint32 = uint32(tahupb.DataType_Float)
	Double   uint32 = uint32(tahupb.DataType_Double)
	Boolean  uint32 = uint32(tahupb.DataType_Boolean)
	String   uint32 = uint32(tahupb.DataType_String)
	DateTime uint32 = uint32(tahupb.DataType_DateTime)
	Text     uint32 = uint32(tahupb.DataType_Text)
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
	// Int is the exact value of an integer (Int8 … UInt64, DateTime) as
	// 64 bits: a signed type's sign-extended (int64(Int) is the value),
	// an unsigned type's as it is. Value holds the same number as a
	// float64, rounded beyond 2^53. Unmarshal sets both; Marshal writes
	// Int when it is not 0, else Value.
	Int uint64
	Str string
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
	case isInteger(m.DataType) && m.Int != 0:
		if signed(m.DataType) {
			s += strconv.FormatInt(int64(m.Int), 10)
		} else {
			s += strconv.FormatUint(m.Int, 10)
		}
	default:
		s += strconv.FormatFloat(m.Value, 'g', -1, 64)
	}
	return s + ", timestamp " + strconv.FormatUint(m.Timestamp, 10) + " ms"
}

func dataTypeName(t uint32) string {
	if n, ok := tahupb.DataType_name[int32(t)]; ok {
		return n
	}
	return "DataType" + strconv.FormatUint(uint64(t), 10)
}

func isInteger(t uint32) bool {
	switch t {
	case Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, DateTime:
		return true
	}
	return false
}

func signed(t uint32) bool { return t == Int8 || t == Int16 || t == Int32 || t == Int64 }

// Payload is a Sparkplug B payload.
type Payload struct {
	Timestamp uint64 // ms since the Unix epoch
	Metrics   []Metric
	Seq       uint64
	HasSeq    bool
}

// Marshal encodes p (FORMAT.md: which field carries each data type).
func (p *Payload) Marshal() []byte {
	pb := &tahupb.Payload{}
	pb.SetTimestamp(p.Timestamp)
	if p.HasSeq {
		pb.SetSeq(p.Seq)
	}
	if len(p.Metrics) > 0 {
		ms := make([]*tahupb.Payload_Metric, len(p.Metrics))
		all := make([]tahupb.Payload_Metric, len(p.Metrics)) // one allocation for all
		for i := range p.Metrics {
			ms[i] = &all[i]
			p.Metrics[i].to(ms[i])
		}
		pb.SetMetrics(ms)
	}
	// proto2 checks no UTF-8, and sparkplug_b.proto has no required
	// field (so AllowPartial skips a walk that finds none): encoding this
	// message cannot fail
	b, _ := proto.MarshalOptions{AllowPartial: true}.Marshal(pb)
	return b
}

// to fills pm with m.
func (m *Metric) to(pm *tahupb.Payload_Metric) {
	if m.Name != "" {
		pm.SetName(m.Name)
	}
	if m.HasAlias {
		pm.SetAlias(m.Alias)
	}
	if m.Timestamp != 0 {
		pm.SetTimestamp(m.Timestamp)
	}
	pm.SetDatatype(m.DataType)
	if m.IsNull {
		pm.SetIsNull(true)
		return
	}
	i := m.Int
	if i == 0 {
		if signed(m.DataType) {
			i = uint64(int64(m.Value))
		} else {
			i = uint64(m.Value)
		}
	}
	switch m.DataType {
	case Int8, Int16, Int32, UInt8, UInt16:
		// the 32-bit two's complement, as Tahu (Sparkplug 3.0 §6.4.16)
		pm.SetIntValue(uint32(i))
	case UInt32, Int64, UInt64, DateTime:
		// UInt32 in long_value: Tahu's encoders, Ignition and the TCK
		// do so (the specification's table says uint32); decoded from
		// either field
		pm.SetLongValue(i)
	case Float:
		pm.SetFloatValue(float32(m.Value))
	case Double:
		pm.SetDoubleValue(m.Value)
	case Boolean:
		pm.SetBooleanValue(m.Value != 0)
	case String, Text:
		pm.SetStringValue(m.Str)
	}
}

// ErrMalformed wraps every decoding error.
var ErrMalformed = errors.New("sparkplug: malformed payload")

// Limits on what Unmarshal decodes. A payload of MaxPayloadSize bytes
// decodes into at most about 75 times as much memory (nested empty
// templates), so the bound keeps a hostile message to some hundreds of
// MiB; an edge node's largest birth is far smaller. Set the broker's
// message size limit (mosquitto: message_size_limit) to it as well.
const (
	MaxPayloadSize = 4 << 20
	MaxMetrics     = 100000
)

// Unmarshal decodes a payload with the types generated from Tahu's
// sparkplug_b.proto. Fields it does not know are skipped.
func Unmarshal(b []byte) (*Payload, error) {
	if len(b) > MaxPayloadSize {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d this host takes", ErrMalformed, len(b), MaxPayloadSize)
	}
	var pb tahupb.Payload
	// AllowPartial: no field is required, the check would find nothing
	if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(b, &pb); err != nil {
		// protobuf-go's errors put a no-break space after "proto:" (so
		// that no one matches their text): a plain one for the log
		return nil, fmt.Errorf("%w: not a Sparkplug B protobuf payload (%s)", ErrMalformed, strings.ReplaceAll(err.Error(), "\u00a0", " "))
	}
	ms := pb.GetMetrics()
	if len(ms) > MaxMetrics {
		return nil, fmt.Errorf("%w: %d metrics, more than %d", ErrMalformed, len(ms), MaxMetrics)
	}
	p := &Payload{Timestamp: pb.GetTimestamp(), Seq: pb.GetSeq(), HasSeq: pb.HasSeq()}
	if len(ms) > 0 {
		p.Metrics = make([]Metric, len(ms))
		for i, pm := range ms {
			p.Metrics[i].from(pm)
		}
	}
	return p, nil
}

// from sets m from pm: the value from whichever field carries it, read
// with the signedness of the data type.
func (m *Metric) from(pm *tahupb.Payload_Metric) {
	*m = Metric{Name: pm.GetName(), Alias: pm.GetAlias(), HasAlias: pm.HasAlias(), Timestamp: pm.GetTimestamp(),
		DataType: pm.GetDatatype(), IsNull: pm.GetIsNull()}
	sgn := signed(m.DataType)
	switch pm.WhichValue() {
	case tahupb.Payload_Metric_IntValue_case:
		v := pm.GetIntValue()
		if sgn {
			m.Int = uint64(int64(int32(v)))
		} else {
			m.Int = uint64(v)
		}
	case tahupb.Payload_Metric_LongValue_case:
		m.Int = pm.GetLongValue()
	case tahupb.Payload_Metric_FloatValue_case:
		m.Value = float64(pm.GetFloatValue())
	case tahupb.Payload_Metric_DoubleValue_case:
		m.Value = pm.GetDoubleValue()
	case tahupb.Payload_Metric_BooleanValue_case:
		if pm.GetBooleanValue() {
			m.Value = 1
		}
	case tahupb.Payload_Metric_StringValue_case:
		m.Str = pm.GetStringValue()
	}
	if w := pm.WhichValue(); w == tahupb.Payload_Metric_IntValue_case || w == tahupb.Payload_Metric_LongValue_case {
		if sgn {
			m.Value = float64(int64(m.Int))
		} else {
			m.Value = float64(m.Int)
		}
	}
}
