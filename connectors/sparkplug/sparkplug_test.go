package sparkplug

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"twin/connectors/sparkplug/internal/tahupb"
)

// TestRoundTrip: every data type the twin reads comes back as it went,
// integers exactly (Int) whether Int or only Value was set.
func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		in   Metric
		want Metric // zero: in
	}{
		{"Int8 from Value", Metric{Name: "a", DataType: Int8, Value: -5}, Metric{Name: "a", DataType: Int8, Value: -5, Int: i64(-5)}},
		{"Int32 min", Metric{Name: "a", DataType: Int32, Value: math.MinInt32, Int: i64(math.MinInt32)}, Metric{}},
		{"Int64 min", Metric{Name: "a", DataType: Int64, Value: math.MinInt64, Int: 1 << 63}, Metric{}},
		{"UInt32 max", Metric{Name: "a", DataType: UInt32, Value: math.MaxUint32, Int: math.MaxUint32}, Metric{}},
		{"UInt64 max", Metric{Name: "a", DataType: UInt64, Value: math.MaxUint64, Int: math.MaxUint64}, Metric{}},
		{"UInt64 from Value", Metric{Name: "a", DataType: UInt64, Value: 1e15}, Metric{Name: "a", DataType: UInt64, Value: 1e15, Int: 1e15}},
		{"DateTime", Metric{Name: "a", DataType: DateTime, Value: 1772438400000, Int: 1772438400000}, Metric{}},
		{"Float", Metric{Name: "a", Alias: 7, HasAlias: true, DataType: Float, Value: float64(float32(0.1))}, Metric{}},
		{"Double", Metric{Alias: 7, HasAlias: true, Timestamp: 9, DataType: Double, Value: -1e-300}, Metric{}},
		{"Boolean", Metric{Name: "a", DataType: Boolean, Value: 1}, Metric{}},
		{"String", Metric{Name: "a", DataType: String, Str: "运行"}, Metric{}},
		{"Text", Metric{Name: "a", DataType: Text, Str: "a\nb"}, Metric{}},
		{"null", Metric{Name: "a", DataType: Int64, IsNull: true}, Metric{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if want == (Metric{}) {
				want = c.in
			}
			p := &Payload{Timestamp: 1772438400000, Seq: 3, HasSeq: true, Metrics: []Metric{c.in}}
			q, err := Unmarshal(p.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			if d := diffPayload(q, &Payload{Timestamp: p.Timestamp, Seq: 3, HasSeq: true, Metrics: []Metric{want}}); d != "" {
				t.Error(d)
			}
		})
	}
}

// i64 is v as Metric.Int holds it: sign-extended to 64 bits.
func i64(v int64) uint64 { return uint64(v) }

// TestUInt32EitherField: a UInt32 in int_value (the specification's table)
// reads as one in long_value (Tahu's encoders, Ignition, what Marshal
// writes); a signed type in int_value is sign-extended.
func TestUInt32EitherField(t *testing.T) {
	for _, c := range []struct {
		dt   uint32
		set  func(*tahupb.Payload_Metric)
		want uint64
	}{
		{UInt32, func(m *tahupb.Payload_Metric) { m.SetIntValue(math.MaxUint32) }, math.MaxUint32},
		{UInt32, func(m *tahupb.Payload_Metric) { m.SetLongValue(math.MaxUint32) }, math.MaxUint32},
		{Int32, func(m *tahupb.Payload_Metric) { m.SetIntValue(math.MaxUint32) }, math.MaxUint64}, // -1
		{Int16, func(m *tahupb.Payload_Metric) { m.SetIntValue(uint32(0xffff8000)) }, uint64(math.MaxUint64 - 0x7fff)},
	} {
		pm := &tahupb.Payload_Metric{}
		pm.SetName("m")
		pm.SetDatatype(c.dt)
		c.set(pm)
		pb := &tahupb.Payload{}
		pb.SetTimestamp(1)
		pb.SetMetrics([]*tahupb.Payload_Metric{pm})
		raw, err := proto.Marshal(pb)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Unmarshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		if m := p.Metrics[0]; m.Int != c.want {
			t.Errorf("%s: Int %d, want %d (%s)", dataTypeName(c.dt), m.Int, c.want, &m)
		}
	}
	// and the field Marshal writes for it
	raw := (&Payload{Metrics: []Metric{{Name: "m", DataType: UInt32, Int: 5}}}).Marshal()
	var pb tahupb.Payload
	if err := proto.Unmarshal(raw, &pb); err != nil {
		t.Fatal(err)
	}
	if m := pb.GetMetrics()[0]; m.WhichValue() != tahupb.Payload_Metric_LongValue_case || m.GetLongValue() != 5 {
		t.Errorf("UInt32 5 encoded as %v", m)
	}
}

// TestMalformed: input that is not a payload is refused with ErrMalformed
// and says what was wrong.
func TestMalformed(t *testing.T) {
	many := bytes.Repeat([]byte{0x12, 0x00}, MaxMetrics+1) // empty metrics
	big := protowire.AppendTag(nil, 5, protowire.BytesType)
	big = protowire.AppendBytes(big, make([]byte, MaxPayloadSize))
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"truncated metric", []byte{0x12, 0x05, 0x0a}, "malformed"},
		{"bad wire type", []byte{0x0f}, "malformed"},
		{"too many metrics", many, fmt.Sprintf("more than %d", MaxMetrics)},
		{"too big", big, fmt.Sprintf("more than the %d", MaxPayloadSize)},
	} {
		_, err := Unmarshal(c.b)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrMalformed saying %q", c.name, err, c.want)
		}
	}
	// unknown fields and value types the twin does not read are skipped
	pm := &tahupb.Payload_Metric{}
	pm.SetName("blob")
	pm.SetDatatype(uint32(tahupb.DataType_Bytes))
	pm.SetBytesValue([]byte{1, 2, 3})
	pb := &tahupb.Payload{}
	pb.SetTimestamp(1)
	pb.SetUuid("schema-1")
	pb.SetMetrics([]*tahupb.Payload_Metric{pm})
	raw, _ := proto.Marshal(pb)
	raw = protowire.AppendTag(raw, 99, protowire.VarintType)
	raw = protowire.AppendVarint(raw, 1)
	p, err := Unmarshal(raw)
	if err != nil || len(p.Metrics) != 1 || p.Metrics[0].Name != "blob" || p.Metrics[0].Value != 0 {
		t.Errorf("payload with a Bytes metric and an unknown field: %+v, %v", p, err)
	}
}

func TestMetricString(t *testing.T) {
	for _, c := range []struct {
		m    Metric
		want string
	}{
		{Metric{Name: "Energy", DataType: UInt64, Int: math.MaxUint64, Value: math.MaxUint64, Timestamp: 5}, `"Energy" UInt64 = 18446744073709551615, timestamp 5 ms`},
		{Metric{Alias: 3, HasAlias: true, DataType: Int64, Int: 1 << 63, Value: math.MinInt64}, `"" (alias 3) Int64 = -9223372036854775808, timestamp 0 ms`},
		{Metric{Name: "State", DataType: String, Str: "down"}, `"State" String = "down", timestamp 0 ms`},
		{Metric{Name: "x", DataType: 99, IsNull: true}, `"x" DataType99 = null, timestamp 0 ms`},
	} {
		if got := c.m.String(); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
}
