package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"twin/plant"
	"twin/twin/mes/openapi"
	"twin/twin/mes/schedule"

	"twin/twin/mes"
)

// The HTTP API: JSON under /api/v1, described by the OpenAPI 3 document
// at /api/v1/openapi.json (built from the route table below, so it is the
// code's). Every route names the roles it allows; ROLES.md is the same
// table for people (a test keeps the two, and the server, in step).

type handler func(c *call) (any, error)

// Route is one endpoint.
type Route struct {
	openapi.Route
	h handler
	// pending: a user who must change the password may call it (the
	// change itself, who am I); every other route answers 403 with code
	// password_change_required.
	pending bool
}

// call is one request being served.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	user *mes.User
	// session is the browser session the request came with (nil: a
	// Bearer token, or a public route)
	session *mes.Session
	db      *mes.DB
	plan    *schedule.Planner
	backup  Backup // nil: none
}

func (c *call) name() string { return c.user.Name }

// API serves the records over HTTP.
type API struct {
	db     *mes.DB
	plan   *schedule.Planner
	mux    *http.ServeMux
	routes []Route
	doc    []byte
	backup Backup // SetBackup
}

// New returns the API handler of the records db; plan computes their
// schedules and forecasts (nil: a planner without the live twin).
func New(db *mes.DB, plan *schedule.Planner) *API {
	if plan == nil {
		plan = &schedule.Planner{Records: db}
	}
	a := &API{db: db, plan: plan, mux: http.NewServeMux(), routes: routes()}
	a.doc = document(a.routes, db.Plant())
	for _, r := range a.routes {
		if r.Path == "/api/v1/openapi.json" {
			a.mux.HandleFunc("GET "+r.Path, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write(a.doc)
			})
			continue
		}
		a.mux.HandleFunc(r.Method+" "+r.Path, a.serve(r))
	}
	a.mux.HandleFunc("/api/v1/", a.noRoute)
	return a
}

// OpenAPI returns the API's OpenAPI 3 document for plant p.
func OpenAPI(p *plant.Plant) []byte { return document(routes(), p) }

func document(rs []Route, p *plant.Plant) []byte {
	var ors []openapi.Route
	for _, r := range rs {
		ors = append(ors, r.Route)
	}
	doc := openapi.Document(openapi.Info{Title: "twin MES records", Version: "1",
		Description: "Production orders, work orders, operation cards and scans, material genealogy, the equipment ledger, quality, maintenance, labour and KPIs (ISO 22400-2) of plant " + p.ID + ". Errors are {\"error\": …, \"code\": …, \"field\": …, \"args\": …} with a stable code (ERRORS.md); a browser signs in with POST /session (cookie twin_session, CSRF token in X-CSRF-Token); lists are paged with limit and cursor. " + timesDoc(p.Location),
		Times:       "RFC 3339; in a response with the plant's offset (" + p.Location.String() + "); in a request also plant time without an offset (2026-03-20T16:00)"}, ors)
	documentErrors(doc)
	b, _ := json.MarshalIndent(doc, "", "  ")
	return b
}

// ZoneHeader names the plant's time zone (IANA) in every response of the
// API, for clients that show times: "Plant-Time-Zone: Asia/Shanghai".
const ZoneHeader = "Plant-Time-Zone"

// timesDoc says, for the API document, what the times of the API mean.
func timesDoc(loc *time.Location) string {
	ex := time.Date(2026, 3, 20, 16, 0, 0, 0, loc)
	return "Times are plant time, in " + loc.String() + ": every time in a response is RFC 3339 with the plant's UTC offset at that time (" +
		ex.Format(time.RFC3339) + "); a time in a request body or a query parameter is RFC 3339 with any offset, or plant time without one: " +
		"2026-03-20T16:00, 2026-03-20T16:00:00 or 2026-03-20 mean that wall-clock time in " + loc.String() + " (" + ex.Format(time.RFC3339) + "). " +
		"Every response names the zone in its " + ZoneHeader + " header."
}

// Routes returns the route table.
func (a *API) Routes() []Route { return a.routes }

// OpenAPI returns the OpenAPI document.
func (a *API) OpenAPI() []byte { return a.doc }

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// apiError is the body of every error answer (errors.go).
type apiError struct {
	Error     string         `json:"error"`
	Code      string         `json:"code"`
	Field     string         `json:"field,omitempty"`
	Args      map[string]any `json:"args,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
}

// Bearer is the token of a request's "Authorization: Bearer <token>"
// header (the scheme in any case), or "".
func Bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// source is the address a request came from (its TCP peer: a proxy's
// X-Forwarded-For is not believed), for the sign-in throttle.
func source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// coded is an error with a stable code a client can act on (or translate).
type coded interface {
	error
	Code() string
}

func (a *API) serve(rt Route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(ZoneHeader, a.db.Plant().Location.String())
		c := &call{w: w, r: r, db: a.db, plan: a.plan, backup: a.backup}
		if len(rt.Roles) > 0 {
			u, sess, err := a.authenticate(w, r)
			if err != nil {
				writeErr(w, a.db, err)
				return
			}
			if u.MustChangePassword && !rt.pending {
				writeErr(w, a.db, mes.ErrPasswordChange)
				return
			}
			if !slices.ContainsFunc(u.Roles, func(role string) bool { return slices.Contains(rt.Roles, role) }) {
				writeErr(w, a.db, &roleError{route: rt.Method + " " + rt.Path, roles: rt.Roles, user: u})
				return
			}
			c.user, c.session = u, sess
		}
		v, err := rt.h(c)
		if err != nil {
			writeErr(w, a.db, err)
			return
		}
		if v == nil { // the handler wrote the response
			return
		}
		status := rt.Status
		if status == 0 {
			status = http.StatusOK
		}
		writeJSON(w, status, zoned(v, a.db.Plant().Location))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

// requestID names an internal error in the log and in the answer.
func requestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// decode reads a JSON request body into v: unknown fields, wrong types,
// trailing data and oversize bodies are errors naming the field. A time
// field takes RFC 3339 with an offset or plant time in loc without one
// (plant.ParseTime).
func decode(r io.Reader, v any, loc *time.Location) error {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return mes.FieldErr("body", "reading: %v", err)
	}
	return decodeBytes(b, v, loc)
}

// decodeBytes is decode on a body read already (and the fuzz target's).
func decodeBytes(b []byte, v any, loc *time.Location) error {
	if len(b) > maxBody {
		return coded400(mes.FieldErr("body", "larger than %d bytes", maxBody), "body_too_large", "max", maxBody)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return coded400(mes.FieldErr("body", "empty: want a JSON object"), "invalid_json")
	}
	b, err := withPlantTimes(b, v, loc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return coded400(mes.FieldErr("body", "not JSON at byte %d: %v", se.Offset, se), "invalid_json")
		case errors.As(err, &te):
			f := te.Field
			if f == "" {
				f = "body"
			}
			return coded400(mes.FieldErr(f, "want %s, got JSON %s", te.Type, te.Value), "invalid_type", "want", te.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			if f == "" {
				return coded400(mes.FieldErr("body", "a field with an empty name"), "unknown_field")
			}
			return coded400(mes.FieldErr(f, "unknown field"), "unknown_field")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return coded400(mes.FieldErr("body", "JSON ends early"), "invalid_json")
		}
		var tpe *time.ParseError
		if errors.As(err, &tpe) {
			if err := timeError(b, v, loc); err != nil {
				return err
			}
			return coded400(mes.FieldErr("body", "a time is neither RFC 3339 nor plant time like 2026-03-20T16:00: %q", tpe.Value), "invalid_time")
		}
		return mes.FieldErr("body", "%v", err)
	}
	if dec.More() {
		return coded400(mes.FieldErr("body", "more than one JSON value"), "invalid_json")
	}
	return checkLengths(reflect.ValueOf(v), "", defaultMaxLen)
}

// coded400 gives the field error err the code reason and the args
// given as name, value pairs.
func coded400(err error, reason string, args ...any) error {
	fe := err.(*mes.FieldError)
	fe.Reason = reason
	for i := 0; i+1 < len(args); i += 2 {
		if fe.With == nil {
			fe.With = map[string]any{}
		}
		fe.With[args[i].(string)] = args[i+1]
	}
	return fe
}

// body decodes the request body into a new T.
func body[T any](c *call) (T, error) {
	var v T
	err := decode(c.r.Body, &v, c.db.Plant().Location)
	return v, err
}

// optBody decodes the request body into a new T; an empty body is T's
// zero value.
func optBody[T any](c *call) (T, error) {
	var v T
	b, err := io.ReadAll(io.LimitReader(c.r.Body, maxBody+1))
	if err != nil {
		return v, mes.FieldErr("body", "reading: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return v, nil
	}
	err = decodeBytes(b, &v, c.db.Plant().Location)
	return v, err
}

// query helpers: each error names its parameter.
func (c *call) str(name string) string { return c.r.URL.Query().Get(name) }

func (c *call) limit() (int, error) {
	s := c.str("limit")
	if s == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1000 {
		return 0, mes.FieldErr("limit", "want 1 to 1000, got %q", s)
	}
	return n, nil
}

// time reads a time parameter: RFC 3339 with an offset, or plant time
// without one (plant.ParseTime, as the request bodies and the plant file).
func (c *call) time(name string) (time.Time, error) {
	s := c.str(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := plant.ParseTime(s, c.db.Plant().Location)
	if err != nil {
		return time.Time{}, coded400(mes.FieldErr(name, "want RFC 3339 or YYYY-MM-DD[THH:MM[:SS]] (plant time, %s), got %q", c.db.Plant().Location, s), "invalid_time")
	}
	return t, nil
}

func (c *call) window() (from, to time.Time, err error) {
	if from, err = c.time("from"); err != nil {
		return
	}
	if to, err = c.time("to"); err != nil {
		return
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		err = mes.FieldErr("to", "must be after from")
	}
	return
}

func (c *call) bool(name string) (bool, error) {
	s := c.str(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, mes.FieldErr(name, "want true or false, got %q", s)
	}
	return b, nil
}

// paged runs a list with the limit and cursor of the query.
func paged[T any](c *call, fn func(cursor string, limit int) (mes.Page[T], error)) (any, error) {
	n, err := c.limit()
	if err != nil {
		return nil, err
	}
	return fn(c.str("cursor"), n)
}

// RolesTable renders the route table as the Markdown of ROLES.md.
func RolesTable(rs []Route) string {
	var b strings.Builder
	b.WriteString("| method | path | " + strings.Join(mes.Roles, " | ") + " |\n|---|---|" + strings.Repeat("---|", len(mes.Roles)) + "\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | `%s` |", r.Method, strings.TrimPrefix(r.Path, "/api/v1"))
		for _, role := range mes.Roles {
			switch {
			case len(r.Roles) == 0:
				b.WriteString(" public |")
			case slices.Contains(r.Roles, role):
				b.WriteString(" ✓ |")
			default:
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
