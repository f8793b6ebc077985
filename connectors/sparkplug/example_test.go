package sparkplug_test

import (
	"fmt"

	"twin/connectors/sparkplug"
)

// A host follows an edge node's session: the birth names the metrics,
// data refers to them by alias, a sequence gap drops the node's data
// until it is born again.
func ExampleHost() {
	h := sparkplug.NewHost()
	send := func(topic string, p sparkplug.Payload) {
		t, err := sparkplug.ParseTopic(topic)
		if err != nil {
			fmt.Println(err)
			return
		}
		q, err := sparkplug.Unmarshal(p.Marshal()) // over the wire
		if err != nil {
			fmt.Println(err)
			return
		}
		u := h.Handle(t, q)
		for _, v := range u.Values {
			fmt.Printf("%s %s = %g\n", t.Type, v.Metric.Name, v.Metric.Value)
		}
		if u.Dropped {
			fmt.Printf("%s seq %d dropped; rebirth requested: %v\n", t.Type, q.Seq, u.Rebirth)
		}
	}
	send("spBv1.0/plant/NBIRTH/gw", sparkplug.Payload{Timestamp: 1, HasSeq: true, Metrics: []sparkplug.Metric{
		{Name: "bdSeq", DataType: sparkplug.Int64, Value: 0}}})
	send("spBv1.0/plant/DBIRTH/gw/press", sparkplug.Payload{Timestamp: 1, Seq: 1, HasSeq: true, Metrics: []sparkplug.Metric{
		{Name: "Good", Alias: 1, HasAlias: true, DataType: sparkplug.UInt32, Value: 41}}})
	send("spBv1.0/plant/DDATA/gw/press", sparkplug.Payload{Timestamp: 2, Seq: 2, HasSeq: true, Metrics: []sparkplug.Metric{
		{Alias: 1, HasAlias: true, DataType: sparkplug.UInt32, Value: 42}}})
	send("spBv1.0/plant/DDATA/gw/press", sparkplug.Payload{Timestamp: 3, Seq: 4, HasSeq: true, Metrics: []sparkplug.Metric{
		{Alias: 1, HasAlias: true, DataType: sparkplug.UInt32, Value: 44}}})
	// Output:
	// NBIRTH bdSeq = 0
	// DBIRTH Good = 41
	// DDATA Good = 42
	// DDATA seq 4 dropped; rebirth requested: true
}
