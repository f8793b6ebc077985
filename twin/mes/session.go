package mes

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"twin/twin/mes/recstore"
)

// Browser sessions: a person signs in once (a name and password, checked
// and throttled as LogIn checks them; or an API token, which a kiosk or a
// PDA terminal trades for a session) and the browser keeps the session's
// opaque id in a cookie. The records keep only the id's SHA-256
// (session/<hash>), with the user, the expiry, the session's CSRF token
// and the user's sign-in generation, so a session outlasts a restart and
// ends when the user's password, roles or disabled flag change (as a
// sign-in token does), at sign-out, at expiry, and, for a kiosk's, when
// the API token it was traded for expires or is revoked.

// SessionTTL is how long a session lasts: a shift and a bit.
const SessionTTL = 14 * time.Hour

// sessionsPruned bounds the expired sessions one sign-in removes.
const sessionsPruned = 100

// SessionLogin signs a browser in: a name and a password (and a new
// password when the account must change it), or an API token.
type SessionLogin struct {
	Name        string `json:"name,omitempty" maxlen:"64"`
	Password    string `json:"password,omitempty" maxlen:"256"`
	NewPassword string `json:"new_password,omitempty" maxlen:"256" doc:"changes the password as it signs in (the policy of POST /users); for an account that must change it"`
	Token       string `json:"token,omitempty" maxlen:"256" doc:"instead of a name and password: an API token an admin issued (POST /users/{name}/tokens), which a kiosk or PDA terminal trades for a session"`
}

// Session is a browser session as its holder sees it.
type Session struct {
	ID      string    `json:"id" doc:"the session's short id (the first 12 hex digits of its SHA-256), as the audit log names it"`
	User    User      `json:"user"`
	CSRF    string    `json:"csrf" doc:"send it as the header X-CSRF-Token with every POST, PUT, PATCH and DELETE of this session"`
	Expires time.Time `json:"expires" doc:"the session ends then (14 h after sign-in, or the kiosk's token's expiry if sooner)"`
	Kiosk   string    `json:"kiosk,omitempty" doc:"signed in with an API token: its id"`
	// Left is how long the session has to run when it starts (the
	// cookie's Max-Age).
	Left time.Duration `json:"-"`
}

// sessionRecord is a session as the records keep it, under
// session/<SHA-256 of its id>.
type sessionRecord struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	CSRF    string    `json:"csrf"`
	Gen     uint64    `json:"gen"`             // the user's sign-in generation (sessions.Login)
	Token   string    `json:"token,omitempty"` // the SHA-256 of the API token it was traded for
	From    string    `json:"from,omitempty"`  // the address it signed in from
}

// sessionAudit is what the audit log says of a session (never its CSRF
// token).
type sessionAudit struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Expires time.Time `json:"expires"`
	From    string    `json:"from,omitempty"`
	Kiosk   string    `json:"kiosk,omitempty"` // the token's id
}

func (r sessionRecord) audit() sessionAudit {
	a := sessionAudit{ID: r.ID, User: r.User, Expires: r.Expires, From: r.From}
	if r.Token != "" {
		a.Kiosk = r.Token[:12]
	}
	return a
}

// sessionExpiryKey indexes a session by its expiry, for pruning.
func sessionExpiryKey(at time.Time, hash string) string {
	return "x/sessexp/" + recstore.TimeKey(at, hash)
}

// StartSession signs in from the address source and starts a session:
// its id (the cookie's value, shown this once) and the session. A name
// and password are checked as LogIn checks them (throttled, locking,
// one bounded hash whatever the name); an account that must change its
// password gets ErrPasswordChange unless r.NewPassword changes it. An
// API token is looked up by its hash (a failure counts against the
// address); the session ends when the token does.
func (d *DB) StartSession(ctx context.Context, r SessionLogin, source string) (string, *Session, error) {
	var u *User
	var tokHash string
	var tokExp time.Time
	switch {
	case r.Token != "" && (r.Name != "" || r.Password != "" || r.NewPassword != ""):
		return "", nil, FieldErr("token", "give either a token or a name and password, not both")
	case r.Token != "":
		var err error
		if u, tokHash, tokExp, err = d.tokenSignIn(r.Token, source); err != nil {
			return "", nil, err
		}
	default:
		if r.Name == "" {
			return "", nil, &FieldError{Field: "name", Msg: "required (or token)", Reason: "required"}
		}
		var err error
		if u, err = d.signIn(ctx, r.Name, r.Password, source); err != nil {
			return "", nil, err
		}
		if r.NewPassword != "" {
			if err := d.changeOwnPassword(ctx, u.Name, r.Password, r.NewPassword, "new_password"); err != nil {
				return "", nil, err
			}
			u.MustChangePassword = false
		}
	}
	if u.MustChangePassword {
		return "", nil, ErrPasswordChange
	}
	id, csrf := random32(), random32()
	h := tokenHash(id)
	now := d.signin.opt.Now()
	rec := sessionRecord{ID: h[:12], User: u.Name, Created: now, Expires: now.Add(SessionTTL), CSRF: csrf, Token: tokHash, From: source}
	if !tokExp.IsZero() && tokExp.Before(rec.Expires) {
		rec.Expires = tokExp
	}
	var user User
	err := d.update(u.Name, "session.start", func(t *tx) error {
		if err := t.Must("user", u.Name, &user); err != nil {
			return err
		}
		var s sessions
		if _, err := t.Get("sess/"+u.Name, &s); err != nil {
			return err
		}
		rec.Gen = s.Login
		if err := t.pruneSessions(now); err != nil {
			return err
		}
		if err := t.Set("session/"+h, rec); err != nil {
			return err
		}
		if err := t.Mark(sessionExpiryKey(rec.Expires, h), nil); err != nil {
			return err
		}
		return t.Audit("session", rec.ID, nil, rec.audit())
	})
	if err != nil {
		return "", nil, err
	}
	out := rec.session(user)
	out.Left = rec.Expires.Sub(now)
	return id, out, nil
}

func (r sessionRecord) session(u User) *Session {
	s := &Session{ID: r.ID, User: u, CSRF: r.CSRF, Expires: r.Expires}
	if r.Token != "" {
		s.Kiosk = r.Token[:12]
	}
	return s
}

// pruneSessions removes sessions expired by now (at most sessionsPruned).
func (t *tx) pruneSessions(now time.Time) error {
	cut := recstore.TimeKey(now.Add(1), "") // a session ends at its expiry
	var expired []string
	t.Scan("x/sessexp/", "", func(rest string, _ int64) bool {
		if rest >= cut || len(expired) == sessionsPruned {
			return false
		}
		expired = append(expired, rest)
		return true
	})
	for _, rest := range expired {
		if err := t.Delete("x/sessexp/" + rest); err != nil {
			return err
		}
		if _, h, ok := strings.Cut(rest, "/"); ok {
			if err := t.Delete("session/" + h); err != nil {
				return err
			}
		}
	}
	return nil
}

func random32() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenSignIn checks an API token given to start a session: an address
// that failed too often is refused before the lookup, and a token that
// does not authenticate counts a failure against the address.
func (d *DB) tokenSignIn(tok, source string) (*User, string, time.Time, error) {
	now := d.signin.opt.Now()
	if err := d.signin.allowSource(source, now); err != nil {
		d.signin.refused.Add(1)
		d.log.Warn("sign-in refused", "token", true, "from", source, "err", err)
		return nil, "", time.Time{}, err
	}
	var u User
	var rec tokenRecord
	h := tokenHash(tok)
	err := d.view(func(t *tx) (err error) {
		rec, u, err = t.token(h, time.Now())
		return err
	})
	if errors.Is(err, ErrAuth) {
		ns, locked := d.signin.failedSource(source, now)
		d.log.Warn("sign-in failed", "token", true, "from", source, "failures_from", ns)
		if locked {
			lim := d.signin.opt.Source
			lo := Lockout{Source: source, Failures: ns, At: now, Until: now.Add(lim.LockFor)}
			d.log.Warn("sign-in: address locked", "from", source, "failures", ns, "until", lo.Until)
			if err := d.update("signin", "signin.lockout", func(t *tx) error { return t.Audit("srclock", source, nil, lo) }); err != nil {
				return nil, "", time.Time{}, err
			}
			return nil, "", time.Time{}, &SignInError{Who: "address " + source, Locked: true, RetryAfter: lim.LockFor}
		}
		return nil, "", time.Time{}, errBadToken
	}
	if err != nil {
		return nil, "", time.Time{}, err
	}
	return &u, h, rec.Expires, nil
}

// errBadToken is a token that does not sign in.
var errBadToken error = &authError{"the token is unknown, expired or revoked (an admin issues a new one: POST /api/v1/users/{name}/tokens)", "token_invalid"}

// token looks up the token whose SHA-256 is h: not expired at now, not
// revoked, of an enabled user; else ErrAuth.
func (t *tx) token(h string, now time.Time) (tokenRecord, User, error) {
	var rec tokenRecord
	var u User
	ok, err := t.Get("token/"+h, &rec)
	if err != nil || !ok {
		if err == nil {
			err = ErrAuth
		}
		return rec, u, err
	}
	if !rec.Expires.IsZero() && now.After(rec.Expires) {
		return rec, u, ErrAuth
	}
	if ok, err := t.Get("user/"+rec.User, &u); err != nil || !ok || u.Disabled {
		if err == nil {
			err = ErrAuth
		}
		return rec, u, err
	}
	var s sessions
	if _, err := t.Get("sess/"+rec.User, &s); err != nil {
		return rec, u, err
	}
	if !rec.valid(s) {
		return rec, u, ErrAuth
	}
	return rec, u, nil
}

// ErrSessionEnded is a session cookie that names no session in force:
// never one, signed out, expired, or ended by a change of its user.
var ErrSessionEnded error = &authError{"the session has ended (signed out, expired after 14 hours, or the account changed): sign in again (POST /api/v1/session)", "session_ended"}

// SessionOf returns the session whose id (the cookie's value) is id: in
// force, of an enabled user whose password, roles and disabled flag did
// not change since it began, and, for a kiosk's, whose token still
// signs in. Else ErrSessionEnded.
func (d *DB) SessionOf(id string) (*Session, error) {
	if id == "" {
		return nil, ErrSessionEnded
	}
	now := d.signin.opt.Now()
	var rec sessionRecord
	var u User
	err := d.view(func(t *tx) error {
		ok, err := t.Get("session/"+tokenHash(id), &rec)
		if err != nil {
			return err
		}
		if !ok || !now.Before(rec.Expires) {
			return ErrSessionEnded
		}
		if ok, err := t.Get("user/"+rec.User, &u); err != nil || !ok || u.Disabled {
			if err == nil {
				err = ErrSessionEnded
			}
			return err
		}
		var s sessions
		if _, err := t.Get("sess/"+rec.User, &s); err != nil {
			return err
		}
		if rec.Gen < s.Login {
			return ErrSessionEnded
		}
		if rec.Token != "" {
			if _, _, err := t.token(rec.Token, time.Now()); err != nil {
				if errors.Is(err, ErrAuth) {
					err = ErrSessionEnded
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rec.session(u), nil
}

// EndSession signs the session whose id is id out (audited
// session.end); a session not in force is not found.
func (d *DB) EndSession(id string) error {
	h := tokenHash(id)
	return d.update("", "session.end", func(t *tx) error {
		var rec sessionRecord
		ok, err := t.Get("session/"+h, &rec)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("session: %w", ErrNotFound)
		}
		t.User = rec.User
		if err := t.Delete("session/" + h); err != nil {
			return err
		}
		if err := t.Delete(sessionExpiryKey(rec.Expires, h)); err != nil {
			return err
		}
		return t.Audit("session", rec.ID, rec.audit(), nil)
	})
}

// RevokeToken revokes the API token id (its short id) of the user name:
// it no longer signs in, and the kiosk sessions traded for it end
// (audited token.revoke).
func (d *DB) RevokeToken(actor, name, id string) (*Token, error) {
	if len(id) != 12 || strings.Trim(id, "0123456789abcdef") != "" {
		return nil, FieldErr("id", "want the token's id, 12 hex digits (as POST /users/{name}/tokens answered it), got %q", id)
	}
	var out Token
	err := d.update(actor, "token.revoke", func(t *tx) error {
		found := ""
		t.Scan("token/"+id, "", func(rest string, _ int64) bool { found = id + rest; return false })
		var rec tokenRecord
		if found != "" {
			if _, err := t.Get("token/"+found, &rec); err != nil {
				return err
			}
		}
		if found == "" || rec.User != name || rec.Session {
			return fmt.Errorf("API token %s of %q: %w", id, name, ErrNotFound)
		}
		out = rec.Token
		if err := t.Delete("token/" + found); err != nil {
			return err
		}
		return t.Audit("token", id, rec.Token, nil)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
