package mes

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// The roles. Each API endpoint names the roles it allows (twin/mes/api); a user
// has one or more.
const (
	RoleOperator    = "operator"    // scans cards, clocks on and off, books material
	RoleSupervisor  = "supervisor"  // shift supervisor: an operator's rights, and overrides the routing's sequence with a reason
	RoleQuality     = "quality"     // quality inspector: results, plans, dispositions
	RoleMaintenance = "maintenance" // plans, completions, the equipment ledger
	RolePlanner     = "planner"     // orders, releases, schedules, lots, cards
	RoleManager     = "manager"     // reads everything, KPIs, labour, audit
	RoleAdmin       = "admin"       // users and tokens, audit
)

// Roles lists the roles.
var Roles = []string{RoleOperator, RoleSupervisor, RoleQuality, RoleMaintenance, RolePlanner, RoleManager, RoleAdmin}

// User is an account.
type User struct {
	Name     string    `json:"name"`
	Roles    []string  `json:"roles"`
	Created  time.Time `json:"created"`
	Disabled bool      `json:"disabled"`
	// MustChangePassword: the password was made up (the first admin's) or
	// set to be changed; until the user changes it (POST /me/password, or
	// POST /login with new_password) the API answers every other request
	// 403 with code password_change_required.
	MustChangePassword bool `json:"must_change_password,omitempty" doc:"the user must change the password before anything else (POST /me/password, or POST /login with new_password)"`
}

// Token is an API token's record (the token itself is only ever shown
// once; the records keep its SHA-256).
type Token struct {
	ID      string    `json:"id" doc:"the first 12 hex digits of the token's SHA-256"`
	User    string    `json:"user"`
	Label   string    `json:"label"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
}

// tokenRecord is a token as the records keep it: a token is revoked
// when its user's password, roles or disabled flag change, by its
// generation (sessions: a sign-in's tokens and API tokens counted apart)
// falling behind its user's.
type tokenRecord struct {
	Token
	Session bool   `json:"session,omitempty"`
	Gen     uint64 `json:"gen,omitempty"`
}

// sessions are a user's generations of tokens (sess/<name>): a token
// issued in an older one is revoked.
type sessions struct {
	Login  uint64 `json:"login,omitempty"`  // sign-in tokens
	Tokens uint64 `json:"tokens,omitempty"` // API tokens
}

// valid says whether a token of this record is of the user's current
// generation (a sign-in token made before the record said Session is
// known by its label).
func (r tokenRecord) valid(s sessions) bool {
	if r.Session || r.Label == "login" {
		return r.Gen >= s.Login
	}
	return r.Gen >= s.Tokens
}

// NewUser creates an account.
type NewUser struct {
	Name     string   `json:"name" maxlen:"64"`
	Roles    []string `json:"roles" maxlen:"20"`
	Password string   `json:"password" maxlen:"256" doc:"at least 12 characters, not the name, not a common password (twin/mes/password.go)"`
	// MustChangePassword makes the user change the password at the first
	// sign-in.
	MustChangePassword bool `json:"must_change_password,omitempty" doc:"the user must change the password at the first sign-in"`
}

// UserChange changes an account.
type UserChange struct {
	Roles              []string `json:"roles,omitempty" maxlen:"20"`
	Password           string   `json:"password,omitempty" maxlen:"256" doc:"a new password (the policy of POST /users); it revokes the user's tokens"`
	Disabled           *bool    `json:"disabled,omitempty" doc:"true revokes the user's tokens"`
	MustChangePassword *bool    `json:"must_change_password,omitempty" doc:"the user must change the password at the next sign-in"`
}

// NewToken asks for an API token.
type NewToken struct {
	Label   string `json:"label" maxlen:"100"`
	TTLDays int    `json:"ttl_days,omitempty" doc:"0: does not expire"`
}

// Login is a name and password, and a new password when the account
// must change it.
type Login struct {
	Name        string `json:"name" maxlen:"64"`
	Password    string `json:"password" maxlen:"256"`
	NewPassword string `json:"new_password,omitempty" maxlen:"256" doc:"changes the password as it signs in (the policy of POST /users); for an account that must change it"`
}

// PasswordChange is a user's change of their own password.
type PasswordChange struct {
	Password    string `json:"password" maxlen:"256" doc:"the current password"`
	NewPassword string `json:"new_password" maxlen:"256" doc:"at least 12 characters, not the name, not a common password"`
}

// Issued is a token, shown once.
type Issued struct {
	Token string `json:"token" doc:"send as Authorization: Bearer <token>"`
	Info  Token  `json:"info"`
	// MustChangePassword: the token serves only to change the password.
	MustChangePassword bool `json:"must_change_password,omitempty" doc:"the token serves only to change the password (POST /me/password)"`
}

// Lockout is an account (or an address) locked after failed sign-ins.
type Lockout struct {
	Account    string    `json:"account,omitempty"`
	Source     string    `json:"source,omitempty" doc:"a locked address"`
	Failures   int       `json:"failures" doc:"failed sign-ins that locked it"`
	From       string    `json:"from,omitempty" doc:"the address of the last failure"`
	At         time.Time `json:"at" doc:"when it was locked (wall clock)"`
	Until      time.Time `json:"until,omitzero" doc:"locked until (wall clock)"`
	UnlockedBy string    `json:"unlocked_by,omitempty"`
	UnlockedAt time.Time `json:"unlocked_at,omitzero"`
}

func (l Lockout) active(now time.Time) bool { return l.UnlockedBy == "" && now.Before(l.Until) }

// ErrPasswordChange is a request of a user who must change the password
// first: the API answers 403 with code password_change_required.
var ErrPasswordChange = errors.New("change your password first: POST /api/v1/me/password {\"password\": …, \"new_password\": …} (or sign in again with new_password)")

// lastAdminError is a change that would leave no enabled admin.
type lastAdminError struct{ name string }

func (e *lastAdminError) Error() string {
	return fmt.Sprintf("%s is the last enabled admin: make another account admin first (or nobody could manage the users)", e.name)
}
func (e *lastAdminError) Code() string         { return "last_admin" }
func (e *lastAdminError) Args() map[string]any { return map[string]any{"user": e.name} }
func (e *lastAdminError) Unwrap() error        { return ErrConflict }

func checkRoles(roles []string) error {
	if len(roles) == 0 {
		return FieldErr("roles", "at least one of %s", strings.Join(Roles, ", "))
	}
	for i, r := range roles {
		if !slices.Contains(Roles, r) {
			return FieldErr(fmt.Sprintf("roles[%d]", i), "%q is not a role (%s)", r, strings.Join(Roles, ", "))
		}
	}
	return nil
}

// argon2id parameters (RFC 9106's second recommended option): 3 passes
// over 64 MiB, 2 lanes.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
)

// HashPassword hashes a password as the records keep it: argon2id, 3
// passes over 64 MiB, 2 lanes, a random 16-byte salt (FORMAT.md).
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	k := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(k))
}

// passwordMatches tells whether pw is the password of the argon2id hash
// encoded (the parameters are the hash's).
func passwordMatches(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// hashNew hashes a new password in a hashing slot.
func (d *DB) hashNew(ctx context.Context, pw string) (string, error) {
	var h string
	err := d.signin.hashing(ctx, func() { h = d.hash(pw) })
	return h, err
}

// noAccount is what the password of an unknown name is checked
// against: a hash of HashPassword's parameters that no password matches
// (its key is zeros), so that an unknown name costs what a known one
// does, one argon2id computation.
var noAccount = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
	base64.RawStdEncoding.EncodeToString(make([]byte, 16)), base64.RawStdEncoding.EncodeToString(make([]byte, 32)))

// matches checks pw against the hash encoded in a hashing slot; an
// empty encoded (no such account) is checked against noAccount.
func (d *DB) matches(ctx context.Context, encoded, pw string) (bool, error) {
	var ok bool
	err := d.signin.hashing(ctx, func() {
		if encoded == "" {
			passwordMatches(noAccount, pw)
			return
		}
		ok = passwordMatches(encoded, pw)
	})
	return ok, err
}

// CreateUser makes an account.
func (d *DB) CreateUser(actor string, r NewUser) (*User, error) {
	if err := validID("name", r.Name); err != nil {
		return nil, err
	}
	if err := checkRoles(r.Roles); err != nil {
		return nil, err
	}
	if err := CheckPassword(r.Name, r.Password); err != nil {
		return nil, err
	}
	hash, err := d.hashNew(context.Background(), r.Password)
	if err != nil {
		return nil, err
	}
	var u *User
	err = d.update(actor, "user.create", func(t *tx) error {
		if ok, err := t.Exists("user/" + r.Name); err != nil || ok {
			if ok {
				return fmt.Errorf("user %q exists: %w", r.Name, ErrConflict)
			}
			return err
		}
		u = &User{Name: r.Name, Roles: r.Roles, Created: t.Now, MustChangePassword: r.MustChangePassword}
		if err := t.Set("pw/"+r.Name, hash); err != nil {
			return err
		}
		return t.put("user", r.Name, nil, u)
	})
	return u, err
}

func isAdmin(u User) bool { return !u.Disabled && slices.Contains(u.Roles, RoleAdmin) }

// ChangeUser changes an account's roles, password or disabled flag. A
// new password, a change of roles or of the disabled flag revokes every
// token of the user (its sign-ins' and its API tokens). The last enabled
// admin can be neither demoted nor disabled (a conflict, code
// last_admin).
func (d *DB) ChangeUser(actor, name string, c UserChange) (*User, error) {
	if c.Roles != nil {
		if err := checkRoles(c.Roles); err != nil {
			return nil, err
		}
	}
	hash := ""
	if c.Password != "" {
		if err := CheckPassword(name, c.Password); err != nil {
			return nil, err
		}
		var err error
		if hash, err = d.hashNew(context.Background(), c.Password); err != nil {
			return nil, err
		}
	}
	var u User
	err := d.update(actor, "user.change", func(t *tx) error {
		if err := t.Must("user", name, &u); err != nil {
			return err
		}
		before := u
		if c.Roles != nil {
			u.Roles = c.Roles
		}
		if c.Disabled != nil {
			u.Disabled = *c.Disabled
		}
		if c.MustChangePassword != nil {
			u.MustChangePassword = *c.MustChangePassword
		}
		if isAdmin(before) && !isAdmin(u) {
			if err := t.otherAdmin(name); err != nil {
				return err
			}
		}
		roles := !slices.Equal(before.Roles, u.Roles)
		disabled := before.Disabled != u.Disabled
		if hash != "" {
			if err := t.Set("pw/"+name, hash); err != nil {
				return err
			}
			t.Action = "user.password"
		}
		changed := hash != "" || roles || disabled
		if err := t.revoke(name, changed, changed); err != nil {
			return err
		}
		return t.put("user", name, before, u)
	})
	return &u, err
}

// otherAdmin refuses a change that leaves no enabled admin but name.
func (t *tx) otherAdmin(name string) error {
	p, err := list[User](t, "user/", "", 1<<30, func(u *User) bool { return u.Name != name && isAdmin(*u) })
	if err != nil {
		return err
	}
	if len(p.Items) == 0 {
		return &lastAdminError{name}
	}
	return nil
}

// revoke moves the user's token generations on: of sign-in tokens, of
// API tokens.
func (t *tx) revoke(name string, logins, tokens bool) error {
	if !logins && !tokens {
		return nil
	}
	var s sessions
	if _, err := t.Get("sess/"+name, &s); err != nil {
		return err
	}
	if logins {
		s.Login++
	}
	if tokens {
		s.Tokens++
	}
	return t.Set("sess/"+name, s)
}

// Users lists the accounts.
func (d *DB) Users() ([]User, error) {
	var p Page[User]
	err := d.view(func(t *tx) (err error) {
		p, err = list[User](t, "user/", "", 1<<30, nil)
		return err
	})
	return p.Items, err
}

// HasUsers says whether any account exists.
func (d *DB) HasUsers() (bool, error) {
	us, err := d.Users()
	return len(us) > 0, err
}

// IssueToken makes an API token for a user.
func (d *DB) IssueToken(actor, name string, r NewToken) (*Issued, error) {
	if r.TTLDays < 0 {
		return nil, FieldErr("ttl_days", "negative")
	}
	var exp time.Time
	if r.TTLDays > 0 {
		exp = time.Now().AddDate(0, 0, r.TTLDays)
	}
	return d.issue(actor, name, r.Label, exp, false)
}

// issue makes a token (a sign-in's when session); expires is wall-clock
// time (zero: never).
func (d *DB) issue(actor, name, label string, expires time.Time, session bool) (*Issued, error) {
	b := make([]byte, 24)
	rand.Read(b)
	tok := "tw_" + base64.RawURLEncoding.EncodeToString(b)
	h := tokenHash(tok)
	var out *Issued
	err := d.update(actor, "token.issue", func(t *tx) error {
		var u User
		if err := t.Must("user", name, &u); err != nil {
			return err
		}
		var s sessions
		if _, err := t.Get("sess/"+name, &s); err != nil {
			return err
		}
		info := Token{ID: h[:12], User: name, Label: label, Created: t.Now, Expires: expires}
		rec := tokenRecord{Token: info, Session: session, Gen: s.Tokens}
		if session {
			rec.Gen = s.Login
		}
		out = &Issued{Token: tok, Info: info, MustChangePassword: u.MustChangePassword}
		if err := t.Set("token/"+h, rec); err != nil {
			return err
		}
		return t.Audit("token", info.ID, nil, info) // under its short id, not its hash
	})
	return out, err
}

func tokenHash(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

// ErrAuth is a missing, unknown or expired credential.
var ErrAuth = errors.New("not signed in: send Authorization: Bearer <token> (POST /api/v1/login gives one)")

// authError is a credential refused, with the code of why.
type authError struct{ msg, code string }

func (e *authError) Error() string { return e.msg + ": " + ErrAuth.Error() }
func (e *authError) Code() string  { return e.code }
func (e *authError) Unwrap() error { return ErrAuth }

// errSignIn is a name and password that do not sign in: the same answer
// for an unknown name, a wrong password and a disabled account.
var errSignIn error = &authError{"unknown name or wrong password", "signin_failed"}

// LogIn checks a name and password from the address source and issues
// a 12-hour token; with r.NewPassword it changes the password first (an
// account that must change it). Failures are throttled and lock the
// name and the address (SignInOptions): an attempt too early is a
// *SignInError, a flood that finds every hashing slot busy ErrSignInBusy.
// Every name costs one password hash, an account or not.
func (d *DB) LogIn(ctx context.Context, r Login, source string) (*Issued, error) {
	u, err := d.signIn(ctx, r.Name, r.Password, source)
	if err != nil {
		return nil, err
	}
	if r.NewPassword != "" {
		return d.setOwnPassword(ctx, u.Name, r.Password, r.NewPassword, "new_password")
	}
	// a sign-in's token lasts a shift and a half
	return d.issue(u.Name, u.Name, "login", time.Now().Add(12*time.Hour), true)
}

// ChangePassword changes the password of the signed-in user name, who
// gives the current one (checked as a sign-in is, throttled), and
// returns a new sign-in token: the change revokes every token of the
// user, the one of this request too.
func (d *DB) ChangePassword(ctx context.Context, name string, r PasswordChange, source string) (*Issued, error) {
	if r.NewPassword == "" {
		return nil, FieldErr("new_password", "required")
	}
	if _, err := d.signIn(ctx, name, r.Password, source); err != nil {
		if errors.Is(err, ErrAuth) {
			return nil, FieldErr("password", "is not your current password")
		}
		return nil, err
	}
	return d.setOwnPassword(ctx, name, r.Password, r.NewPassword, "new_password")
}

// setOwnPassword sets the new password of name (who gave the current
// one), revokes the user's tokens and issues a sign-in token.
func (d *DB) setOwnPassword(ctx context.Context, name, current, pw, field string) (*Issued, error) {
	if err := d.changeOwnPassword(ctx, name, current, pw, field); err != nil {
		return nil, err
	}
	return d.issue(name, name, "login", time.Now().Add(12*time.Hour), true)
}

// changeOwnPassword sets the new password of name (who gave the current
// one) and revokes the user's tokens and sessions.
func (d *DB) changeOwnPassword(ctx context.Context, name, current, pw, field string) error {
	if err := checkNewPassword(field, name, pw); err != nil {
		return err
	}
	if pw == current {
		return FieldErr(field, "is the current password: choose a new one")
	}
	hash, err := d.hashNew(ctx, pw)
	if err != nil {
		return err
	}
	return d.update(name, "user.password", func(t *tx) error {
		var u User
		if err := t.Must("user", name, &u); err != nil {
			return err
		}
		before := u
		u.MustChangePassword = false
		if err := t.Set("pw/"+name, hash); err != nil {
			return err
		}
		if err := t.revoke(name, true, true); err != nil {
			return err
		}
		return t.put("user", name, before, u)
	})
}

// signIn checks name and pw from source: throttled, one hash whatever
// the name, the failures counted (and logged, never the password).
func (d *DB) signIn(ctx context.Context, name, pw, source string) (*User, error) {
	now := d.signin.opt.Now()
	if err := d.signin.allow(name, source, now); err != nil {
		d.signin.refused.Add(1)
		d.log.Warn("sign-in refused", "name", name, "from", source, "err", err)
		return nil, err
	}
	var hash string
	var u User
	var lock Lockout
	locked := false
	if validID("name", name) == nil {
		err := d.view(func(t *tx) error {
			ok, err := t.Get("user/"+name, &u)
			if err == nil && ok {
				_, err = t.Get("pw/"+name, &hash)
			}
			if err == nil {
				ok, err = t.Get("lock/"+name, &lock)
				locked = ok && lock.active(now)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if locked { // a lockout from before the last start
		d.signin.refused.Add(1)
		err := &SignInError{Who: "account " + name, Locked: true, RetryAfter: lock.Until.Sub(now)}
		d.log.Warn("sign-in refused", "name", name, "from", source, "err", err)
		return nil, err
	}
	ok, err := d.matches(ctx, hash, pw)
	if err != nil {
		d.log.Warn("sign-in refused", "name", name, "from", source, "err", err)
		return nil, err
	}
	if !ok || u.Disabled {
		return nil, d.signInFailed(name, source, now)
	}
	d.signin.succeeded(name)
	return &u, nil
}

// signInFailed counts a failed sign-in, logs it, and locks (and audits)
// the name or the address when it is one too many.
func (d *DB) signInFailed(name, source string, now time.Time) error {
	na, ns, lockedA, lockedS := d.signin.failed(name, source, now)
	d.log.Warn("sign-in failed", "name", name, "from", source, "failures", na, "failures_from", ns)
	switch {
	case lockedA:
		lim := d.signin.opt.Account
		lo := Lockout{Account: name, Failures: na, From: source, At: now, Until: now.Add(lim.LockFor)}
		d.log.Warn("sign-in: account locked", "name", name, "from", source, "failures", na, "until", lo.Until)
		if validID("name", name) == nil {
			if err := d.update("signin", "signin.lockout", func(t *tx) error {
				var before *Lockout
				var old Lockout
				if ok, err := t.Get("lock/"+name, &old); err != nil {
					return err
				} else if ok {
					before = &old
				}
				return t.put("lock", name, before, lo)
			}); err != nil {
				return err
			}
		}
		return &SignInError{Who: "account " + name, Locked: true, RetryAfter: lim.LockFor}
	case lockedS:
		lim := d.signin.opt.Source
		lo := Lockout{Source: source, Failures: ns, At: now, Until: now.Add(lim.LockFor)}
		d.log.Warn("sign-in: address locked", "from", source, "failures", ns, "until", lo.Until)
		if err := d.update("signin", "signin.lockout", func(t *tx) error { return t.Audit("srclock", source, nil, lo) }); err != nil {
			return err
		}
		return &SignInError{Who: "address " + source, Locked: true, RetryAfter: lim.LockFor}
	}
	return errSignIn
}

// Unlock ends the lockout of the account name and forgets its failed
// sign-ins (audited signin.unlock); a name with neither is not found.
func (d *DB) Unlock(actor, name string) (*Lockout, error) {
	if err := validID("name", name); err != nil {
		return nil, err
	}
	now := d.signin.opt.Now()
	n, _ := d.signin.clear(name, now)
	var out Lockout
	err := d.update(actor, "signin.unlock", func(t *tx) error {
		var old Lockout
		ok, err := t.Get("lock/"+name, &old)
		if err != nil {
			return err
		}
		if (!ok || !old.active(now)) && n == 0 {
			return fmt.Errorf("%q has no failed sign-ins that count and is not locked: %w", name, ErrNotFound)
		}
		var before *Lockout
		out = Lockout{Account: name, Failures: n, At: now}
		if ok {
			before = &old
			if old.active(now) {
				out = old
			}
		}
		out.UnlockedBy, out.UnlockedAt = actor, now
		return t.put("lock", name, before, out)
	})
	if err != nil {
		return nil, err
	}
	d.log.Info("sign-in: account unlocked", "name", name, "by", actor)
	return &out, nil
}

// SignInStatus is who has failed sign-ins that still count: names
// (accounts or not) and addresses, with their waits and lockouts.
type SignInStatus struct {
	Accounts []Throttled `json:"accounts"`
	Sources  []Throttled `json:"sources"`
}

// SignIns returns the names and addresses with failed sign-ins that
// still count, and the lockouts kept in the records that are in effect.
func (d *DB) SignIns() (*SignInStatus, error) {
	now := d.signin.opt.Now()
	d.signin.mu.Lock()
	st := &SignInStatus{Accounts: d.signin.acct.list(now), Sources: d.signin.src.list(now)}
	d.signin.mu.Unlock()
	err := d.view(func(t *tx) error {
		p, err := list[Lockout](t, "lock/", "", 1<<30, func(l *Lockout) bool { return l.active(now) })
		for _, l := range p.Items {
			if !slices.ContainsFunc(st.Accounts, func(th Throttled) bool { return th.Who == l.Account }) {
				st.Accounts = append(st.Accounts, Throttled{Who: l.Account, Failures: l.Failures, Locked: l.Until})
			}
		}
		return err
	})
	if st.Accounts == nil {
		st.Accounts = []Throttled{}
	}
	if st.Sources == nil {
		st.Sources = []Throttled{}
	}
	return st, err
}

// PasswordIs tells whether pw is the password of the account name (false
// for an unknown or disabled account), without signing in: twin serve
// asks it whether the first admin password it keeps on disk is still the
// account's.
func (d *DB) PasswordIs(name, pw string) (bool, error) {
	var hash string
	var u User
	err := d.view(func(t *tx) error {
		if ok, err := t.Get("user/"+name, &u); err != nil || !ok {
			return err
		}
		_, err := t.Get("pw/"+name, &hash)
		return err
	})
	if err != nil || hash == "" || u.Disabled {
		return false, err
	}
	return d.matches(context.Background(), hash, pw)
}

// Authenticate returns the user a token belongs to: not expired, not
// revoked (a change of the user's password, roles or disabled flag since
// it was issued, see ChangeUser), of an enabled user. The token is looked
// up by its SHA-256, never compared as text.
func (d *DB) Authenticate(tok string) (*User, error) {
	if tok == "" {
		return nil, ErrAuth
	}
	var u User
	err := d.view(func(t *tx) (err error) {
		_, u, err = t.token(tokenHash(tok), time.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}
