package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"twin/twin/mes"
	"twin/twin/mes/recstore"
	"twin/twin/mes/schedule"
	"twin/twin/tlsconf"
)

// browser is a browser signed in to the rig: its session cookie and the
// session's CSRF token.
type browser struct {
	r      *rig
	cookie *http.Cookie
	csrf   string
	// bearer, when set, is sent too (a client that sends both)
	bearer string
	// site is the Sec-Fetch-Site the browser sends ("": none)
	site string
}

// reply is an HTTP answer as a test looks at it.
type reply struct {
	status  int
	cookies []*http.Cookie
	header  http.Header
	err     apiError
	body    []byte
}

// send sends a request of the browser: the cookie, and X-CSRF-Token
// when csrf is set.
func (b *browser) send(method, path string, in any, csrf string) reply {
	b.r.t.Helper()
	return sendTo(b.r.t, b.r.srv.URL, method, path, in, func(req *http.Request) {
		if b.cookie != nil {
			req.AddCookie(b.cookie)
		}
		if csrf != "" {
			req.Header.Set(CSRFHeader, csrf)
		}
		if b.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+b.bearer)
		}
		if b.site != "" {
			req.Header.Set("Sec-Fetch-Site", b.site)
		}
	})
}

func sendTo(t testing.TB, base, method, path string, in any, set func(*http.Request)) reply {
	t.Helper()
	var body io.Reader
	if in != nil {
		j, _ := json.Marshal(in)
		body = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, base+"/api/v1"+path, body)
	set(req)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := reply{status: resp.StatusCode, cookies: resp.Cookies(), header: resp.Header}
	a.body, _ = io.ReadAll(resp.Body)
	if a.status >= 400 {
		json.Unmarshal(a.body, &a.err)
	}
	return a
}

// signIn signs a browser in with POST /session.
func (r *rig) signIn(in mes.SessionLogin) (*browser, mes.Session) {
	r.t.Helper()
	b := &browser{r: r}
	a := b.send("POST", "/session", in, "")
	if a.status != 200 {
		r.t.Fatalf("POST /session %+v: %d %s", in, a.status, a.body)
	}
	var s mes.Session
	if err := json.Unmarshal(a.body, &s); err != nil {
		r.t.Fatal(err)
	}
	for _, c := range a.cookies {
		if c.Name == SessionCookie {
			b.cookie = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	if b.cookie == nil || s.CSRF == "" {
		r.t.Fatalf("POST /session set no %s cookie or no csrf: %v %s", SessionCookie, a.header["Set-Cookie"], a.body)
	}
	b.csrf = s.CSRF
	return b, s
}

// the rig's users' password (one cheap hash for all, mes_test.go)
const rigPassword = "correct horse"

func sessionCookie(t *testing.T, a reply) *http.Cookie {
	t.Helper()
	for _, c := range a.cookies {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", SessionCookie, a.header["Set-Cookie"])
	return nil
}

// TestSessionCookie: a browser signs in with a name and password and
// gets an HttpOnly, SameSite=Strict cookie of 14 hours (not Secure over
// plain HTTP) and a CSRF token; the cookie reads every route its roles
// allow; a POST needs the CSRF token (403 csrf without it, with a wrong
// one, or from another site); a request with a Bearer token is judged by
// the token alone; sign-out needs the token and ends the session.
func TestSessionCookie(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	b := &browser{r: r}
	a := b.send("POST", "/session", mes.SessionLogin{Name: "u-planner", Password: rigPassword}, "")
	if a.status != 200 {
		t.Fatalf("sign-in: %d %s", a.status, a.body)
	}
	c := sessionCookie(t, a)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge != int(mes.SessionTTL.Seconds()) || c.Secure {
		t.Fatalf("the cookie over plain HTTP: %v; want HttpOnly, SameSite=Strict, Path=/, Max-Age=%d, not Secure", a.header["Set-Cookie"], int(mes.SessionTTL.Seconds()))
	}
	if len(c.Value) < 40 {
		t.Fatalf("the session id %q: want 32 random bytes", c.Value)
	}
	var s struct {
		User    mes.User `json:"user"`
		CSRF    string   `json:"csrf"`
		Expires string   `json:"expires"`
	}
	json.Unmarshal(a.body, &s)
	exp, err := time.Parse(time.RFC3339, s.Expires)
	if s.User.Name != "u-planner" || len(s.CSRF) < 40 || err != nil || !strings.HasSuffix(s.Expires, "+08:00") {
		t.Fatalf("the session: %s; want the user, a CSRF token and the expiry in plant time (+08:00)", a.body)
	}
	if d := time.Until(exp); d < mes.SessionTTL-time.Minute || d > mes.SessionTTL {
		t.Fatalf("the session expires in %v, want 14 h", d)
	}
	b.cookie, b.csrf = &http.Cookie{Name: SessionCookie, Value: c.Value}, s.CSRF

	if a := b.send("GET", "/session", nil, ""); a.status != 200 || len(a.cookies) != 0 || !strings.Contains(string(a.body), s.CSRF) {
		t.Fatalf("GET /session: %d %v %s; want the same session, no new cookie", a.status, a.header["Set-Cookie"], a.body)
	}
	if a := b.send("GET", "/orders", nil, ""); a.status != 200 {
		t.Fatalf("GET /orders with the cookie: %d %s", a.status, a.body)
	}
	order := mes.NewOrder{ID: "PO-1", Customer: "c", Product: "YE3-100L-4", Quantity: 2, Due: r.now().Add(24 * time.Hour)}
	for _, bad := range []struct{ name, csrf, site string }{
		{"no token", "", ""}, {"a wrong token", s.CSRF[:len(s.CSRF)-1] + "x", ""}, {"another site", s.CSRF, "cross-site"},
	} {
		b.site = bad.site
		if a := b.send("POST", "/orders", order, bad.csrf); a.status != 403 || a.err.Code != "csrf" {
			t.Fatalf("POST with the cookie and %s: %d %s, want 403 csrf", bad.name, a.status, a.body)
		}
	}
	b.site = "same-origin"
	if a := b.send("POST", "/orders", order, s.CSRF); a.status != 201 {
		t.Fatalf("POST with the cookie and its token: %d %s", a.status, a.body)
	}
	b.site = ""

	// a Bearer token decides, cookie or not: no CSRF token needed, and its
	// own roles count
	b.bearer = r.tok["planner"]
	order.ID = "PO-2"
	if a := b.send("POST", "/orders", order, ""); a.status != 201 {
		t.Fatalf("POST with a Bearer token and the cookie, no CSRF token: %d %s, want 201", a.status, a.body)
	}
	b.bearer = r.tok["operator"]
	order.ID = "PO-3"
	if a := b.send("POST", "/orders", order, s.CSRF); a.status != 403 || a.err.Code != "role_required" {
		t.Fatalf("an operator's token with a planner's cookie: %d %s, want 403 role_required", a.status, a.body)
	}
	if a := b.send("GET", "/session", nil, ""); a.status != 404 || a.err.Code != "no_session" {
		t.Fatalf("GET /session with a Bearer token: %d %s, want 404 no_session", a.status, a.body)
	}
	b.bearer = ""

	if a := b.send("DELETE", "/session", nil, ""); a.status != 403 || a.err.Code != "csrf" {
		t.Fatalf("sign-out without the CSRF token: %d %s, want 403 csrf", a.status, a.body)
	}
	a = b.send("DELETE", "/session", nil, s.CSRF)
	if a.status != 200 || sessionCookie(t, a).MaxAge >= 0 {
		t.Fatalf("sign-out: %d %v %s; want 200 and the cookie cleared", a.status, a.header["Set-Cookie"], a.body)
	}
	if a := b.send("GET", "/orders", nil, ""); a.status != 401 || a.err.Code != "session_ended" {
		t.Fatalf("the cookie after sign-out: %d %s, want 401 session_ended", a.status, a.body)
	}
	audit, err := r.db.Audit("session", "", time.Time{}, time.Time{}, "", 10)
	if err != nil || len(audit.Items) != 2 || audit.Items[0].Action != "session.start" || audit.Items[1].Action != "session.end" ||
		audit.Items[0].User != "u-planner" || strings.Contains(string(audit.Items[0].After), s.CSRF) {
		t.Fatalf("the audit log of the session: %+v %v; want its start and end by u-planner, without its CSRF token", audit.Items, err)
	}
}

// TestSessionSecureOverTLS: served over TLS as twin serve serves it
// (tlsconf.Secure around the API), the cookie is Secure, once.
func TestSessionSecureOverTLS(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	srv := httptest.NewTLSServer(tlsconf.Secure(New(r.db, &schedule.Planner{Records: r.db})))
	defer srv.Close()
	c := srv.Client()
	j, _ := json.Marshal(mes.SessionLogin{Name: "u-operator", Password: rigPassword})
	resp, err := c.Post(srv.URL+"/api/v1/session", "application/json", bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	set := resp.Header.Values("Set-Cookie")
	if resp.StatusCode != 200 || len(set) != 1 || strings.Count(strings.ToLower(set[0]), "secure") != 1 ||
		!strings.Contains(set[0], "HttpOnly") || !strings.Contains(set[0], "SameSite=Strict") {
		t.Fatalf("over TLS: %d %q; want one cookie, Secure (once), HttpOnly, SameSite=Strict", resp.StatusCode, set)
	}
}

// TestSessionKiosk: a kiosk trades an admin-issued API token for a
// session; the session ends when the token is revoked; a token that does
// not sign in is 401 token_invalid and counts against the address.
func TestSessionKiosk(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	var is mes.Issued
	r.must("admin", "POST", "/users/u-operator/tokens", mes.NewToken{Label: "kiosk W2"}, &is, 201)
	b, s := r.signIn(mes.SessionLogin{Token: is.Token})
	if s.User.Name != "u-operator" || s.Kiosk != is.Info.ID {
		t.Fatalf("the kiosk's session: %+v, want u-operator's, of token %s", s, is.Info.ID)
	}
	if a := b.send("GET", "/me", nil, ""); a.status != 200 || !strings.Contains(string(a.body), `"u-operator"`) {
		t.Fatalf("GET /me on the kiosk: %d %s", a.status, a.body)
	}
	if a := b.send("POST", "/session", mes.SessionLogin{Token: is.Token, Name: "u-operator"}, ""); a.status != 400 {
		t.Fatalf("a token and a name: %d %s, want 400", a.status, a.body)
	}
	for i := range 3 {
		if a := b.send("POST", "/session", mes.SessionLogin{Token: "tw_forged" + string(rune('a'+i))}, ""); a.status != 401 || a.err.Code != "token_invalid" {
			t.Fatalf("a forged token: %d %s, want 401 token_invalid", a.status, a.body)
		}
	}
	var st mes.SignInStatus
	r.must("admin", "GET", "/signins", nil, &st, 200)
	if len(st.Sources) != 1 || st.Sources[0].Who != "127.0.0.1" || st.Sources[0].Failures != 3 || len(st.Accounts) != 0 {
		t.Fatalf("/signins after three forged tokens: %+v; want 3 failures of 127.0.0.1, no account's", st)
	}
	// revoking the kiosk's token ends its session, not the user's others
	other, _ := r.signIn(mes.SessionLogin{Name: "u-operator", Password: rigPassword})
	r.must("admin", "DELETE", "/users/u-operator/tokens/"+is.Info.ID, nil, nil, 200)
	if a := b.send("GET", "/me", nil, ""); a.status != 401 || a.err.Code != "session_ended" {
		t.Fatalf("the kiosk after its token was revoked: %d %s, want 401 session_ended", a.status, a.body)
	}
	if a := other.send("GET", "/me", nil, ""); a.status != 200 {
		t.Fatalf("the user's own session after the kiosk's token was revoked: %d %s", a.status, a.body)
	}
	if a := b.send("POST", "/session", mes.SessionLogin{Token: is.Token}, ""); a.status != 401 || a.err.Code != "token_invalid" {
		t.Fatalf("the revoked token: %d %s, want 401 token_invalid", a.status, a.body)
	}
	r.must("admin", "DELETE", "/users/u-operator/tokens/"+is.Info.ID, nil, nil, 404)
	// a change of the user's roles revokes every token and session
	_, _ = r.signIn(mes.SessionLogin{Token: r.tok["operator"]})
	r.must("admin", "PATCH", "/users/u-operator", mes.UserChange{Roles: []string{mes.RoleOperator, mes.RoleSupervisor}}, nil, 200)
	if a := other.send("GET", "/me", nil, ""); a.status != 401 || a.err.Code != "session_ended" {
		t.Fatalf("a session after its user's roles changed: %d %s, want 401 session_ended", a.status, a.body)
	}
}

// TestSessionExpiry: a session lasts 14 hours on the sign-in clock.
func TestSessionExpiry(t *testing.T) {
	clock := &wallClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	r := newRig(t, t.TempDir())
	r.close()
	r.signin = mes.SignInOptions{Now: clock.now}
	r.open()
	r.users()
	b, s := r.signIn(mes.SessionLogin{Name: "u-operator", Password: rigPassword})
	if !s.Expires.Equal(clock.now().Add(14 * time.Hour)) {
		t.Fatalf("expires %v, want 14 h after %v", s.Expires, clock.now())
	}
	clock.advance(14*time.Hour - time.Second)
	if a := b.send("GET", "/session", nil, ""); a.status != 200 {
		t.Fatalf("a second before its end: %d %s", a.status, a.body)
	}
	clock.advance(time.Second)
	a := b.send("GET", "/session", nil, "")
	if a.status != 401 || a.err.Code != "session_ended" || sessionCookie(t, a).MaxAge >= 0 {
		t.Fatalf("at its end: %d %v %s; want 401 session_ended and the cookie cleared", a.status, a.header["Set-Cookie"], a.body)
	}
	// the next sign-in removes the expired session's record
	r.signIn(mes.SessionLogin{Name: "u-planner", Password: rigPassword})
	var n int
	r.db.Store().View(func(t *recstore.Tx) error {
		n = len(t.Keys("session/"))
		return nil
	})
	if n != 1 {
		t.Fatalf("%d session records after the expired one was pruned, want 1", n)
	}
}

// TestSessionRevoked: a session ends when its user changes the
// password, an admin changes it, or the user is disabled.
func TestSessionRevoked(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	for _, c := range []struct {
		name   string
		revoke func(b *browser)
	}{
		{"own password change", func(b *browser) {
			if a := b.send("POST", "/me/password", mes.PasswordChange{Password: rigPassword, NewPassword: "a new and long passphrase"}, b.csrf); a.status != 200 {
				t.Fatalf("the change: %d %s", a.status, a.body)
			}
		}},
		{"admin sets the password", func(*browser) {
			r.must("admin", "PATCH", "/users/u-quality", mes.UserChange{Password: "another long passphrase"}, nil, 200)
		}},
		{"disabled", func(*browser) {
			yes := true
			r.must("admin", "PATCH", "/users/u-quality", mes.UserChange{Disabled: &yes}, nil, 200)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, _ := r.signIn(mes.SessionLogin{Name: "u-quality", Password: rigPassword})
			other, _ := r.signIn(mes.SessionLogin{Name: "u-planner", Password: rigPassword})
			c.revoke(b)
			if a := b.send("GET", "/session", nil, ""); a.status != 401 || a.err.Code != "session_ended" {
				t.Fatalf("after the change: %d %s, want 401 session_ended", a.status, a.body)
			}
			if a := other.send("GET", "/session", nil, ""); a.status != 200 {
				t.Fatalf("another user's session after the change: %d %s", a.status, a.body)
			}
		})
	}
}

// TestSessionRestart: a session outlasts a restart of the twin.
func TestSessionRestart(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	b, s := r.signIn(mes.SessionLogin{Name: "u-supervisor", Password: rigPassword})
	r.restart()
	a := b.send("GET", "/session", nil, "")
	if a.status != 200 || !strings.Contains(string(a.body), s.CSRF) {
		t.Fatalf("after a restart: %d %s, want the session", a.status, a.body)
	}
}

// TestSessionPasswordChange: an account that must change its password
// signs in only with new_password (403 password_change_required
// without), which changes it.
func TestSessionPasswordChange(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	if _, err := r.db.CreateUser("setup", mes.NewUser{Name: "wang", Roles: []string{mes.RoleOperator}, Password: "made up by the admin", MustChangePassword: true}); err != nil {
		t.Fatal(err)
	}
	b := &browser{r: r}
	a := b.send("POST", "/session", mes.SessionLogin{Name: "wang", Password: rigPassword}, "")
	if a.status != 403 || a.err.Code != "password_change_required" || len(a.cookies) != 0 {
		t.Fatalf("sign-in of an account that must change its password: %d %v %s, want 403 password_change_required and no cookie", a.status, a.header["Set-Cookie"], a.body)
	}
	_, s := r.signIn(mes.SessionLogin{Name: "wang", Password: rigPassword, NewPassword: "wang's own long passphrase"})
	var u mes.User
	if err := r.db.Read("user", "wang", &u); err != nil || s.User.MustChangePassword || u.MustChangePassword {
		t.Fatalf("after the change: the session's %+v, the record's %+v (%v)", s.User, u, err)
	}
	if a := b.send("POST", "/session", mes.SessionLogin{Name: "wang", Password: "not wang's password"}, ""); a.status != 401 || a.err.Code != "signin_failed" {
		t.Fatalf("a wrong password: %d %s, want 401 signin_failed", a.status, a.body)
	}
}
