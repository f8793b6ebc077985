package mqtt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"twin/connectors/mqtt"
	"twin/connectors/mqtt/mqtttest"
	"twin/plant"
	"twin/twin/ingest"
	"twin/twin/store"
)

// BenchmarkPipeline: events from mosquitto through the MQTT client, the
// state fold and the durable Badger store, the twin's whole ingest path.
// A gateway publishes QoS 1 messages of 100 readings each (JSON arrays).
func BenchmarkPipeline(b *testing.B) {
	broker := mqtttest.Start(b, mqtttest.Options{Config: "allow_anonymous true\nmax_queued_messages 0\nmax_inflight_messages 0\n"})
	url := broker.URL()
	dir := b.TempDir()

	st, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	in := ingest.New(st, nil, ingest.Options{})
	const topics = 20
	cfg := plant.MQTTBroker{URL: url, ClientID: "bench-twin"}
	for i := 0; i < topics; i++ {
		cfg.Topics = append(cfg.Topics, plant.TopicTag{Topic: fmt.Sprintf("plant/U%d/power_kw", i), Asset: fmt.Sprintf("plant/U%d", i), Signal: plant.SignalPower})
	}
	c, err := mqtt.New(cfg, in, mqtt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { c.Run(ctx); close(ran) }()
	defer func() { cancel(); <-ran }()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := c.WaitSubscribed(wctx); err != nil {
		b.Fatal(err)
	}
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("bench-gw").SetMaxResumePubInFlight(1000))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	type reading struct {
		V  float64 `json:"value"`
		TS int64   `json:"ts"`
	}
	msgs := b.N/100 + 1
	// every reading a time of its own, later than the one before, as a
	// gateway sends them (the same times again would take the store's
	// late-event path every time)
	payloads := make([][]byte, msgs)
	t0 := time.Now().Add(-time.Hour).UnixMilli() // an hour ago: in the receive clock's bounds
	rs := make([]reading, 100)
	for m := range payloads {
		for k := range rs {
			rs[k] = reading{V: float64(k), TS: t0 + int64(m*len(rs)+k)}
		}
		payloads[m], _ = json.Marshal(rs)
	}
	b.ResetTimer()
	start := time.Now()
	var toks []paho.Token
	for m := 0; m < msgs; m++ {
		toks = append(toks, pub.Publish(fmt.Sprintf("plant/U%d/power_kw", m%topics), 1, false, payloads[m]))
		if len(toks) >= 500 {
			for _, t := range toks {
				t.Wait()
			}
			toks = toks[:0]
		}
	}
	for _, t := range toks {
		t.Wait()
	}
	want := uint64(msgs * 100)
	for in.Stats().Stored < want {
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("stored %d of %d", in.Stats().Stored, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	el := time.Since(start)
	b.ReportMetric(float64(want)/el.Seconds(), "events/s")
	b.ReportMetric(float64(msgs)/el.Seconds(), "msgs/s")
	in.Close()
}
