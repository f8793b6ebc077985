package mqtttest

import (
	"net"
	"strconv"
	"testing"
)

// TestPortTaken: a port another process holds is no mosquitto of ours:
// start says so (and Start would try another port), it does not take the
// other's listener for its own.
func TestPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b := &Broker{Port: l.Addr().(*net.TCPAddr).Port, Dir: t.TempDir(), tb: t, conf: "allow_anonymous true\n"}
	if err := b.start(); err != errPortTaken {
		t.Fatalf("start on a taken port: %v, want errPortTaken", err)
	}
	// Start, Stop and Restart on the same port
	s := Start(t, Options{Config: "allow_anonymous true\n"})
	s.Stop()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.Port)); err != nil {
		t.Fatalf("the restarted broker: %v", err)
	} else {
		c.Close()
	}
}
