package broker

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func TestEmbeddedBroker(t *testing.T) {
	b, err := Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan string, 10)
	sub := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("sub"))
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer sub.Disconnect(100)
	sub.Subscribe("plant/#", 1, func(_ paho.Client, m paho.Message) { got <- m.Topic() + " " + string(m.Payload()) }).Wait()
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	pub.Publish("plant/W1/good", 1, false, "41").Wait()
	select {
	case m := <-got:
		if m != "plant/W1/good 41" {
			t.Errorf("got %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message through the embedded broker")
	}
}
