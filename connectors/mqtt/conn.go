package mqtt

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// open dials the broker for paho (tcp://, mqtt://; ssl://, tls://,
// mqtts://, tcps:// with the options' TLS configuration) and wraps the
// connection in a lingerConn.
func (c *Client) open(u *url.URL, o paho.ClientOptions) (net.Conn, error) {
	d := &net.Dialer{Timeout: o.ConnectTimeout}
	var conn net.Conn
	var err error
	switch u.Scheme {
	case "tcp", "mqtt":
		conn, err = d.Dial("tcp", u.Host)
	case "ssl", "tls", "mqtts", "tcps":
		conn, err = tls.DialWithDialer(d, "tcp", u.Host, o.TLSConfig)
	default:
		return nil, fmt.Errorf("mqtt: broker %s: want a URL like tcp://host:1883 or ssl://host:8883 (scheme %q is not supported)", c.cfg.URL, u.Scheme)
	}
	if err != nil {
		return nil, err
	}
	return &lingerConn{Conn: conn, linger: &c.lingering, eof: make(chan struct{})}, nil
}

// lingerWait bounds how long closing a connection waits for the
// broker's end (lingerConn).
const lingerWait = time.Second

// lingerConn closes a connection the way a client that has just sent
// what matters must: paho writes DISCONNECT and closes at once, and a
// socket closed while the broker's messages are still arriving (unread)
// is reset (RST) by the kernel, which throws away what was written but
// not yet taken by the broker: the last acknowledgements and the
// DISCONNECT itself. (TestCleanStopUnderBacklog saw 175 of 201
// acknowledgements lost that way.) While the client is disconnecting,
// Close shuts the sending side first (FIN after the last byte written),
// lets paho's reader go on reading until the broker closes its end (it
// does on DISCONNECT), at most lingerWait, and then closes. A
// connection lost otherwise is closed at once.
type lingerConn struct {
	net.Conn
	linger *atomic.Bool
	eof    chan struct{} // closed once a read has failed (the broker's end, or the close)
	once   sync.Once
}

func (c *lingerConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.once.Do(func() { close(c.eof) })
	}
	return n, err
}

func (c *lingerConn) Close() error {
	if c.linger.Load() {
		if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			t := time.NewTimer(lingerWait)
			select {
			case <-c.eof:
			case <-t.C:
			}
			t.Stop()
		}
	}
	return c.Conn.Close()
}
