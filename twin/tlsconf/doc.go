// Package tlsconf is the HTTPS of a twin: the certificate it serves with,
// the trust its command-line clients place in it, and what HTTPS asks of
// a response.
//
// A twin serves with a certificate and key it is given (a plant's own
// PKI), or with one it makes and keeps in its data directory (DATA/tls):
// a small local CA (ca.pem, its key ca.key readable by its owner only)
// signs a server certificate (server.pem, server.key) whose names are the
// machine's host name, its LAN addresses, localhost and 127.0.0.1, and
// any names asked for. Phones and browsers install the CA once; the
// server certificate is reused at every start, and made anew when it
// nears its end (30 days before) or no longer names the machine (a new
// LAN address): the CA stays, so nothing needs installing again.
//
// It is not a certificate authority for anything but one twin's own
// server, and it does not speak ACME.
//
//	srv, err := tlsconf.Open(tlsconf.Options{Dir: "data/demo/tls"})
//	hs := &http.Server{Handler: tlsconf.Secure(h), TLSConfig: srv.Config()}
//	fmt.Println("certificate SHA-256", srv.Fingerprint(), "CA", srv.CAFile)
//
//	cfg, err := tlsconf.ClientConfig("data/demo/tls/ca.pem") // a client's trust
package tlsconf
