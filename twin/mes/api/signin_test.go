package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"twin/twin/mes"
)

// wallClock is the sign-in throttle's clock, moved by the test.
type wallClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *wallClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *wallClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// postTo posts in to the API at base (a server of another process).
func (r *rig) postTo(base, path string, in any) (int, string, apiError) {
	saved := r.srv
	defer func() { r.srv = saved }()
	r.srv = &httptest.Server{URL: base}
	return r.post("", "POST", path, in, nil)
}

// post sends body to path with the bearer token tok (none when empty)
// and returns the status, the Retry-After header and the error answer.
func (r *rig) post(tok, method, path string, in, out any) (int, string, apiError) {
	r.t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(method, r.srv.URL+"/api/v1"+path, bytes.NewReader(b))
	if in == nil {
		req, _ = http.NewRequest(method, r.srv.URL+"/api/v1"+path, nil)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e apiError
	if resp.StatusCode >= 400 {
		json.Unmarshal(body, &e)
	} else if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			r.t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), e
}

const liPassword = "blue motor on line two"

// TestSignInLockout: wrong passwords for one account are answered 401,
// then 429 with Retry-After growing (1 s, 2 s, 4 s …) until the 10th
// failure locks the account for 15 minutes, even for the right password;
// the lockout is audited, outlasts a restart, and an admin ends it.
func TestSignInLockout(t *testing.T) {
	if testing.Short() {
		t.Skip("checks real argon2id hashes, one to two seconds each on a busy machine (and many times that under -race)")
	}
	clock := &wallClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	r := newRig(t, t.TempDir())
	r.close()
	r.signin = mes.SignInOptions{Now: clock.now}
	r.open()
	r.users()
	r.realHash = true
	if _, err := r.db.CreateUser("setup", mes.NewUser{Name: "li", Roles: []string{mes.RolePlanner}, Password: liPassword}); err != nil {
		t.Fatal(err)
	}
	wrong := mes.Login{Name: "li", Password: "blue motor on line three"}
	var waited time.Duration
	var waits []string
	for failures := 0; failures < 10; {
		code, retry, e := r.post("", "POST", "/login", wrong, nil)
		switch {
		case code == 401:
			failures++
		case code == 429 && e.Code == "signin_throttled":
			waits = append(waits, retry)
			d, _ := time.ParseDuration(retry + "s")
			clock.advance(d)
			waited += d
		case code == 429 && e.Code == "signin_locked" && failures == 9:
			failures++ // the 10th failure answers the lockout itself
			if retry != "900" {
				t.Fatalf("the lockout: Retry-After %q, want 900", retry)
			}
		default:
			t.Fatalf("after %d failures: %d %q %+v", failures, code, retry, e)
		}
	}
	t.Logf("locked at the 10th failure after waiting %v (Retry-After %s)", waited, strings.Join(waits, ", "))
	if want := []string{"1", "2", "4", "8", "16", "32"}; strings.Join(waits, ",") != strings.Join(want, ",") {
		t.Fatalf("the waits: %v, want %v", waits, want)
	}
	if code, retry, e := r.post("", "POST", "/login", mes.Login{Name: "li", Password: liPassword}, nil); code != 429 || e.Code != "signin_locked" || retry == "" {
		t.Fatalf("the right password of a locked account: %d %q %+v, want 429 signin_locked", code, retry, e)
	}
	if st := r.db.SignInStats(); st.Failures != 10 || st.Lockouts != 1 || st.Refused < 7 {
		t.Fatalf("stats %+v, want 10 failures, 1 lockout, at least 7 refused", st)
	}
	aud, err := r.db.Audit("lockout", "li", time.Time{}, time.Time{}, "", 100)
	if err != nil || len(aud.Items) != 1 || aud.Items[0].Action != "signin.lockout" {
		t.Fatalf("the audit of li's lockout: %+v %v", aud.Items, err)
	}
	// the records keep it over a restart (the throttle's memory does not)
	r.restart()
	if code, _, e := r.post("", "POST", "/login", mes.Login{Name: "li", Password: liPassword}, nil); code != 429 || e.Code != "signin_locked" {
		t.Fatalf("after a restart: %d %+v, want 429 signin_locked", code, e)
	}
	var st mes.SignInStatus
	r.must("admin", "GET", "/signins", nil, &st, 200)
	if len(st.Accounts) != 1 || st.Accounts[0].Who != "li" || st.Accounts[0].Locked.IsZero() {
		t.Fatalf("GET /signins: %+v", st)
	}
	r.must("operator", "POST", "/users/li/unlock", nil, nil, 403)
	var lo mes.Lockout
	r.must("admin", "POST", "/users/li/unlock", nil, &lo, 200)
	if lo.UnlockedBy != "u-admin" {
		t.Fatalf("unlock: %+v", lo)
	}
	var is mes.Issued
	if code, _, e := r.post("", "POST", "/login", mes.Login{Name: "li", Password: liPassword}, &is); code != 200 || is.Token == "" {
		t.Fatalf("after the unlock: %d %+v", code, e)
	}
	aud, _ = r.db.Audit("lockout", "li", time.Time{}, time.Time{}, "", 100)
	if len(aud.Items) != 2 || aud.Items[1].Action != "signin.unlock" || aud.Items[1].User != "u-admin" {
		t.Fatalf("the audit of the unlock: %+v", aud.Items)
	}
	r.must("admin", "POST", "/users/li/unlock", nil, nil, 404) // nothing to unlock
}

// TestSignInSourceThrottle: one address trying many names is slowed
// after 10 failures whatever the names, and the answer for an unknown
// name is the known name's.
func TestSignInSourceThrottle(t *testing.T) {
	if testing.Short() {
		t.Skip("checks real argon2id hashes, one to two seconds each on a busy machine (and many times that under -race)")
	}
	clock := &wallClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	r := newRig(t, t.TempDir())
	r.close()
	r.signin = mes.SignInOptions{Now: clock.now}
	r.open()
	r.realHash = true
	if _, err := r.db.CreateUser("setup", mes.NewUser{Name: "li", Roles: []string{mes.RolePlanner}, Password: liPassword}); err != nil {
		t.Fatal(err)
	}
	var known, unknown apiError
	for i := range 10 {
		name := "nobody" + string(rune('a'+i))
		if i == 0 {
			name = "li"
		}
		code, _, e := r.post("", "POST", "/login", mes.Login{Name: name, Password: "not the password at all"}, nil)
		if code != 401 {
			t.Fatalf("failure %d (%s): %d %+v, want 401", i+1, name, code, e)
		}
		if i == 0 {
			known = e
		} else {
			unknown = e
		}
	}
	if !reflect.DeepEqual(known, unknown) {
		t.Fatalf("a known name answers %+v, an unknown one %+v", known, unknown)
	}
	code, retry, e := r.post("", "POST", "/login", mes.Login{Name: "someone-new", Password: "not the password at all"}, nil)
	if code != 401 {
		t.Fatalf("the 11th failure: %d %+v", code, e)
	}
	code, retry, e = r.post("", "POST", "/login", mes.Login{Name: "li", Password: liPassword}, nil)
	if code != 429 || e.Code != "signin_throttled" || retry != "1" || !strings.Contains(e.Error, "address 127.0.0.1") {
		t.Fatalf("after 11 failures from one address: %d %q %+v, want 429 for the address", code, retry, e)
	}
}

// TestSignInSameWork: a sign-in costs one argon2id check whether the
// name is an account or not (the old code hashed twice for an unknown
// name, so its answers took twice as long); the times are logged.
func TestSignInSameWork(t *testing.T) {
	if testing.Short() {
		t.Skip("checks real argon2id hashes, one to two seconds each on a busy machine (and many times that under -race)")
	}
	r := newRig(t, t.TempDir())
	r.close()
	// a wide window: the test's failures never throttle
	wide := mes.Limits{Free: 1000, Lock: 1000}
	r.signin = mes.SignInOptions{Account: wide, Source: wide}
	r.open()
	r.realHash = true
	if _, err := r.db.CreateUser("setup", mes.NewUser{Name: "li", Roles: []string{mes.RolePlanner}, Password: liPassword}); err != nil {
		t.Fatal(err)
	}
	const n = 2
	took := map[string]time.Duration{}
	for _, name := range []string{"li", "nobody", "li", "nobody"} {
		before := r.db.SignInStats().Hashes
		start := time.Now()
		for range n {
			if code, _, e := r.post("", "POST", "/login", mes.Login{Name: name, Password: "not the password at all"}, nil); code != 401 {
				t.Fatalf("%s: %d %+v", name, code, e)
			}
		}
		took[name] += time.Since(start)
		if got := r.db.SignInStats().Hashes - before; got != n {
			t.Fatalf("%d sign-ins as %s ran %d argon2id checks, want %d", n, name, got, n)
		}
	}
	t.Logf("a failed sign-in takes %v for a known name, %v for an unknown one", took["li"]/(2*n), took["nobody"]/(2*n))
}

// TestTokensRevoked: a new password, new roles and disabling each revoke
// every token of the user, its sign-ins' and its API tokens.
func TestTokensRevoked(t *testing.T) {
	if testing.Short() {
		t.Skip("checks real argon2id hashes, one to two seconds each on a busy machine (and many times that under -race)")
	}
	r := newRig(t, t.TempDir())
	r.users()
	r.realHash = true
	if _, err := r.db.CreateUser("setup", mes.NewUser{Name: "li", Roles: []string{mes.RolePlanner}, Password: liPassword}); err != nil {
		t.Fatal(err)
	}
	tokens := func(pw string) (login, api string) {
		t.Helper()
		var is mes.Issued
		if code, _, e := r.post("", "POST", "/login", mes.Login{Name: "li", Password: pw}, &is); code != 200 {
			t.Fatalf("sign in: %d %+v", code, e)
		}
		var api2 mes.Issued
		r.must("admin", "POST", "/users/li/tokens", mes.NewToken{Label: "terminal"}, &api2, 201)
		return is.Token, api2.Token
	}
	for _, c := range []struct {
		name   string
		change mes.UserChange
		pw     string // the password after
	}{
		{"password", mes.UserChange{Password: "green motor on line six"}, "green motor on line six"},
		{"roles", mes.UserChange{Roles: []string{mes.RolePlanner, mes.RoleManager}}, "green motor on line six"},
		{"disabled", mes.UserChange{Disabled: ptr(true)}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			login, api := tokens(map[bool]string{true: liPassword, false: "green motor on line six"}[c.name == "password"])
			for _, tok := range []string{login, api} {
				if code, _, e := r.post(tok, "GET", "/me", nil, nil); code != 200 {
					t.Fatalf("before the change: %d %+v", code, e)
				}
			}
			r.must("admin", "PATCH", "/users/li", c.change, nil, 200)
			for what, tok := range map[string]string{"sign-in": login, "API": api} {
				if code, _, _ := r.post(tok, "GET", "/me", nil, nil); code != 401 {
					t.Fatalf("the %s token after a change of %s: %d, want 401", what, c.name, code)
				}
			}
		})
	}
}

// TestLastAdmin: the only enabled admin can neither lose the role nor be
// disabled (409 last_admin); with a second admin it can.
func TestLastAdmin(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	for _, c := range []mes.UserChange{{Roles: []string{mes.RoleManager}}, {Disabled: ptr(true)}} {
		code, _, e := r.post(r.tok["admin"], "PATCH", "/users/u-admin", c, nil)
		if code != 409 || e.Code != "last_admin" || !strings.Contains(e.Error, "u-admin is the last enabled admin") {
			t.Fatalf("%+v of the last admin: %d %+v, want 409 last_admin", c, code, e)
		}
	}
	r.must("admin", "POST", "/users", mes.NewUser{Name: "wang", Roles: []string{mes.RoleAdmin}, Password: liPassword}, nil, 201)
	r.must("admin", "PATCH", "/users/u-admin", mes.UserChange{Roles: []string{mes.RoleManager}}, nil, 200)
	if _, err := r.db.ChangeUser("setup", "wang", mes.UserChange{Disabled: ptr(true)}); err == nil {
		t.Fatal("wang, now the last admin, was disabled")
	}
}

// TestPasswordPolicy: short, common (English and Chinese, with digits
// added), keyboard-run and name-like passwords are refused with a 400
// naming the field; a few words are taken.
func TestPasswordPolicy(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	for _, pw := range []string{"short one", "password2024!", "woaini1314520", "5201314woaini", "qwertyuiop12", "123456789012", "aaaaaaaaaaaa", "zhang-wei-01"} {
		name := "zhang-wei"
		code, _, e := r.post(r.tok["admin"], "POST", "/users", mes.NewUser{Name: name, Roles: []string{mes.RoleOperator}, Password: pw}, nil)
		if code != 400 || e.Field != "password" {
			t.Errorf("password %q: %d %+v, want 400 naming password", pw, code, e)
		}
	}
	r.must("admin", "POST", "/users", mes.NewUser{Name: "zhang-wei", Roles: []string{mes.RoleOperator}, Password: "绕线机二号线的第二台机器"}, nil, 201)
}

// TestMustChangePassword: an account made with an initial password may
// only change it (403 password_change_required on anything else, a
// stable code); the change gives a new token, revokes the old one, and
// the account works.
func TestMustChangePassword(t *testing.T) {
	if testing.Short() {
		t.Skip("checks real argon2id hashes, one to two seconds each on a busy machine (and many times that under -race)")
	}
	r := newRig(t, t.TempDir())
	r.users()
	r.realHash = true
	r.must("admin", "POST", "/users", mes.NewUser{Name: "li", Roles: []string{mes.RolePlanner}, Password: liPassword, MustChangePassword: true}, nil, 201)
	var is mes.Issued
	if code, _, e := r.post("", "POST", "/login", mes.Login{Name: "li", Password: liPassword}, &is); code != 200 || !is.MustChangePassword {
		t.Fatalf("sign in: %d %+v %+v, want a token that must change the password", code, e, is)
	}
	if code, _, e := r.post(is.Token, "GET", "/orders", nil, nil); code != 403 || e.Code != "password_change_required" {
		t.Fatalf("GET /orders before the change: %d %+v, want 403 password_change_required", code, e)
	}
	if code, _, _ := r.post(is.Token, "GET", "/me", nil, nil); code != 200 {
		t.Fatalf("GET /me before the change: %d", code)
	}
	if code, _, e := r.post(is.Token, "POST", "/me/password", mes.PasswordChange{Password: liPassword, NewPassword: liPassword}, nil); code != 400 || e.Field != "new_password" {
		t.Fatalf("the same password again: %d %+v", code, e)
	}
	var now mes.Issued
	if code, _, e := r.post(is.Token, "POST", "/me/password", mes.PasswordChange{Password: liPassword, NewPassword: "green motor on line six"}, &now); code != 200 || now.MustChangePassword {
		t.Fatalf("the change: %d %+v %+v", code, e, now)
	}
	if code, _, _ := r.post(is.Token, "GET", "/me", nil, nil); code != 401 {
		t.Fatalf("the token of before the change: %d, want 401", code)
	}
	if code, _, e := r.post(now.Token, "GET", "/orders", nil, nil); code != 200 {
		t.Fatalf("GET /orders after the change: %d %+v", code, e)
	}
	// or at the sign-in, with new_password
	r.must("admin", "PATCH", "/users/li", mes.UserChange{MustChangePassword: ptr(true)}, nil, 200)
	is = mes.Issued{}
	if code, _, e := r.post("", "POST", "/login", mes.Login{Name: "li", Password: "green motor on line six", NewPassword: "red motor on line nine"}, &is); code != 200 || is.MustChangePassword {
		t.Fatalf("sign in with new_password: %d %+v %+v", code, e, is)
	}
	if code, _, e := r.post(is.Token, "GET", "/orders", nil, nil); code != 200 {
		t.Fatalf("GET /orders after the change at sign-in: %d %+v", code, e)
	}
}
