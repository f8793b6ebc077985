package mes

import "testing"

// FuzzVerifyToken: nothing but a token the server signed names an
// operation.
func FuzzVerifyToken(f *testing.F) {
	d := &DB{key: []byte("0123456789abcdef0123456789abcdef")}
	good := d.CardToken("SO-1-YE3-100L-4-test")
	f.Add(good)
	f.Add("v1.AA.AA")
	f.Add(good + "x")
	f.Fuzz(func(t *testing.T, tok string) {
		op, err := d.VerifyToken(tok)
		if err != nil {
			return
		}
		if d.CardToken(op) != tok && d.CardToken(op) != tokTrim(tok) {
			t.Fatalf("accepted %q for %q, whose token is %q", tok, op, d.CardToken(op))
		}
	})
}

func tokTrim(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\n' || s[0] == '\t' || s[0] == '\r') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\n' || s[len(s)-1] == '\t' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
