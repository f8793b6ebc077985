package mes

import (
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

// NewUser creates an account.
type NewUser struct {
	Name     string   `json:"name" maxlen:"64"`
	Roles    []string `json:"roles" maxlen:"20"`
	Password string   `json:"password" maxlen:"256" doc:"at least 10 characters"`
}

// UserChange changes an account.
type UserChange struct {
	Roles    []string `json:"roles,omitempty" maxlen:"20"`
	Password string   `json:"password,omitempty" maxlen:"256"`
	Disabled *bool    `json:"disabled,omitempty"`
}

// NewToken asks for an API token.
type NewToken struct {
	Label   string `json:"label" maxlen:"100"`
	TTLDays int    `json:"ttl_days,omitempty" doc:"0: does not expire"`
}

// Login is a name and password.
type Login struct {
	Name     string `json:"name" maxlen:"64"`
	Password string `json:"password" maxlen:"256"`
}

// Issued is a token, shown once.
type Issued struct {
	Token string `json:"token" doc:"send as Authorization: Bearer <token>"`
	Info  Token  `json:"info"`
}

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

func checkPassword(encoded, pw string) bool {
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

// CreateUser makes an account.
func (d *DB) CreateUser(actor string, r NewUser) (*User, error) {
	if err := validID("name", r.Name); err != nil {
		return nil, err
	}
	if err := checkRoles(r.Roles); err != nil {
		return nil, err
	}
	if len([]rune(r.Password)) < 10 {
		return nil, FieldErr("password", "at least 10 characters")
	}
	hash := d.hash(r.Password)
	var u *User
	err := d.update(actor, "user.create", func(t *tx) error {
		if ok, err := t.Exists("user/" + r.Name); err != nil || ok {
			if ok {
				return fmt.Errorf("user %q exists: %w", r.Name, ErrConflict)
			}
			return err
		}
		u = &User{Name: r.Name, Roles: r.Roles, Created: t.Now}
		if err := t.Set("pw/"+r.Name, hash); err != nil {
			return err
		}
		return t.put("user", r.Name, nil, u)
	})
	return u, err
}

// ChangeUser changes an account's roles, password or disabled flag.
func (d *DB) ChangeUser(actor, name string, c UserChange) (*User, error) {
	if c.Roles != nil {
		if err := checkRoles(c.Roles); err != nil {
			return nil, err
		}
	}
	hash := ""
	if c.Password != "" {
		if len([]rune(c.Password)) < 10 {
			return nil, FieldErr("password", "at least 10 characters")
		}
		hash = d.hash(c.Password)
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
		if hash != "" {
			if err := t.Set("pw/"+name, hash); err != nil {
				return err
			}
			t.Action = "user.password"
		}
		return t.put("user", name, before, u)
	})
	return &u, err
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
	return d.issue(actor, name, r.Label, exp)
}

// issue makes a token; expires is wall-clock time (zero: never).
func (d *DB) issue(actor, name, label string, expires time.Time) (*Issued, error) {
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
		info := Token{ID: h[:12], User: name, Label: label, Created: t.Now, Expires: expires}
		out = &Issued{Token: tok, Info: info}
		if err := t.Set("token/"+h, info); err != nil {
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

// LogIn checks a name and password and issues a 12-hour token.
func (d *DB) LogIn(r Login) (*Issued, error) {
	var hash string
	var u User
	err := d.view(func(t *tx) error {
		if ok, err := t.Get("user/"+r.Name, &u); err != nil || !ok {
			return err
		}
		_, err := t.Get("pw/"+r.Name, &hash)
		return err
	})
	if err != nil {
		return nil, err
	}
	if hash == "" {
		checkPassword(d.hash("timing"), r.Password) // the same time for unknown users
		return nil, ErrAuth
	}
	if u.Disabled || !checkPassword(hash, r.Password) {
		return nil, ErrAuth
	}
	// a login token lasts a shift and a half
	return d.issue(r.Name, r.Name, "login", time.Now().Add(12*time.Hour))
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
	return checkPassword(hash, pw), nil
}

// Authenticate returns the user a token belongs to.
func (d *DB) Authenticate(tok string) (*User, error) {
	if tok == "" {
		return nil, ErrAuth
	}
	var info Token
	var u User
	err := d.view(func(t *tx) error {
		ok, err := t.Get("token/"+tokenHash(tok), &info)
		if err != nil || !ok {
			if err == nil {
				err = ErrAuth
			}
			return err
		}
		if !info.Expires.IsZero() && time.Now().After(info.Expires) {
			return ErrAuth
		}
		if ok, err := t.Get("user/"+info.User, &u); err != nil || !ok || u.Disabled {
			if err == nil {
				err = ErrAuth
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}
