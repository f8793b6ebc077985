package api

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"twin/twin/mes"
)

// Browser sessions. A browser signs in with POST /session and keeps the
// session's id in the cookie twin_session (HttpOnly, SameSite=Strict,
// Path=/, Max-Age the session's life; Secure over TLS); every route
// takes the cookie where it takes a Bearer token. With the cookie, an
// unsafe method (POST, PUT, PATCH, DELETE) must send the session's CSRF
// token as X-CSRF-Token, and must not come from another site (the
// browser's Sec-Fetch-Site or Origin, http.CrossOriginProtection). A
// request with a Bearer token is judged by it alone, cookie or not: a
// client that sends a token is no browser riding on an ambient cookie.

// SessionCookie is the name of the session's cookie.
const SessionCookie = "twin_session"

// CSRFHeader is the header that carries a session's CSRF token.
const CSRFHeader = "X-CSRF-Token"

// errCSRF is an unsafe request of a session without its CSRF token.
type errCSRF struct{ cross bool }

func (e errCSRF) Error() string {
	if e.cross {
		return "refused: a request from another site (a browser's cross-origin POST, PUT, PATCH or DELETE) does not act on a twin session"
	}
	return "refused: a POST, PUT, PATCH or DELETE signed in with the session cookie must send the session's CSRF token as " + CSRFHeader + " (the csrf of POST or GET /api/v1/session)"
}
func (errCSRF) Code() string { return "csrf" }

// errNoSession is GET or DELETE /session with an API token.
type errNoSession struct{}

func (errNoSession) Error() string {
	return "this request signs in with an API token, not a session: POST /api/v1/session trades a token for one"
}
func (errNoSession) Code() string  { return "no_session" }
func (errNoSession) Unwrap() error { return mes.ErrNotFound }

var crossOrigin = http.NewCrossOriginProtection()

// unsafe says whether a method changes something (and so needs the
// CSRF token with a session).
func unsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// authenticate finds who sends r: the Bearer token's user, else the
// session cookie's (its session too), checking an unsafe request's CSRF
// token.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request) (*mes.User, *mes.Session, error) {
	if tok := Bearer(r); tok != "" {
		u, err := a.db.Authenticate(tok)
		return u, nil, err
	}
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil, mes.ErrAuth
	}
	s, err := a.db.SessionOf(ck.Value)
	if errors.Is(err, mes.ErrAuth) {
		clearCookie(w, r) // the browser may as well forget it
	}
	if err != nil {
		return nil, nil, err
	}
	if unsafe(r.Method) {
		if crossOrigin.Check(r) != nil {
			return nil, nil, errCSRF{cross: true}
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(s.CSRF)) != 1 {
			return nil, nil, errCSRF{}
		}
	}
	return &s.User, s, nil
}

func setCookie(w http.ResponseWriter, r *http.Request, id string, left time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", MaxAge: max(int(left.Seconds()), 1),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

func clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

func sessionRoutes() []Route {
	return []Route{
		withErrors(route("POST", "/session", "users", "sign a browser in: a name and password (with new_password when the account must change it), or a kiosk's API token; sets the cookie twin_session (HttpOnly, SameSite=Strict, 14 hours) and answers the session's CSRF token", nil, nil, mes.SessionLogin{}, mes.Session{}, func(c *call) (any, error) {
			if crossOrigin.Check(c.r) != nil {
				return nil, errCSRF{cross: true}
			}
			r, err := body[mes.SessionLogin](c)
			if err != nil {
				return nil, err
			}
			id, s, err := c.db.StartSession(c.r.Context(), r, source(c.r))
			if err != nil {
				return nil, err
			}
			setCookie(c.w, c.r, id, s.Left)
			return s, nil
		}), signInErrors),
		route("DELETE", "/users/{name}/tokens/{id}", "users", "revoke an API token (a lost kiosk or PDA): it no longer signs in, and the sessions traded for it end", roles(mes.RoleAdmin), nil, nil, mes.Token{}, func(c *call) (any, error) {
			return c.db.RevokeToken(c.name(), c.r.PathValue("name"), c.r.PathValue("id"))
		}),
		pending(route("GET", "/session", "users", "the browser's session: its user, CSRF token and expiry (404 code no_session with an API token)", mes.Roles, nil, nil, mes.Session{}, func(c *call) (any, error) {
			if c.session == nil {
				return nil, errNoSession{}
			}
			return c.session, nil
		})),
		pending(route("DELETE", "/session", "users", "sign the browser out: ends the session and clears its cookie (needs X-CSRF-Token)", mes.Roles, nil, nil, mes.Session{}, func(c *call) (any, error) {
			if c.session == nil {
				return nil, errNoSession{}
			}
			ck, err := c.r.Cookie(SessionCookie)
			if err != nil {
				return nil, mes.ErrAuth
			}
			if err := c.db.EndSession(ck.Value); err != nil {
				return nil, err
			}
			clearCookie(c.w, c.r)
			return c.session, nil
		})),
	}
}
