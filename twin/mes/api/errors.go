package api

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"twin/twin/disk"
	"twin/twin/mes"
	"twin/twin/mes/recstore"
)

// Every error answer of the API is JSON with a stable code:
// {"error": "an English sentence", "code": "stable_snake_case",
// "field": "…", "args": {…}, "request_id": "…"}. The English error is
// for people at a CLI; code and args are for a client that says it in
// the user's words (the web app's catalogues, viz/app/i18n): args holds
// what the code's message needs. The codes, their statuses and their
// English messages are the table below; ERRORS.md is the same table for
// people and the OpenAPI document's Error schema enumerates its codes
// (tests keep the three, and every error answer, in step).
//
// An error gets its code by implementing Code() string (and Args()
// map[string]any); the domain's sentinels (mes.ErrNotFound,
// mes.ErrConflict, …) get theirs here (answer).

// ErrorCode is one code of the API's error answers.
type ErrorCode struct {
	Code    string
	Status  int
	Message string   // English, {arg} for the args
	Args    []string // the args its answers carry
	When    string   // when it happens
}

// errorCodes is the catalogue of the API's error codes.
var errorCodes = []ErrorCode{
	{"invalid_json", 400, "The request's body is not a JSON value of the expected shape.", []string{"field"}, "the body is empty, not JSON, ends early, or holds more than one JSON value"},
	{"body_too_large", 400, "The request's body is larger than {max} bytes.", []string{"field", "max"}, "a body over 1 MiB"},
	{"unknown_field", 400, "{field} is not a field of this request.", []string{"field"}, "the body has a field the request does not take (a typo, or a newer client)"},
	{"invalid_type", 400, "{field} has the wrong type: want {want}.", []string{"field", "want"}, "a field's JSON type is not the one the request takes (a string for a number …)"},
	{"invalid_time", 400, "{field} is not a time: give plant time like 2026-03-20T16:00, or RFC 3339 with an offset.", []string{"field"}, "a time in the body or a query parameter that neither RFC 3339 nor plant time reads"},
	{"required", 400, "{field} is required.", []string{"field"}, "a field the request needs is missing or empty"},
	{"too_long", 400, "{field} is longer than {max} characters.", []string{"field", "max"}, "a string longer than its field allows (the document's maxLength)"},
	{"invalid_field", 400, "{field} is not valid.", []string{"field"}, "any other value a request cannot use: the English error says what was expected"},
	{"card_invalid", 400, "This is not an operation's card: scan it again, or type it as printed.", []string{"field", "station"}, "the text scanned is no operation card's (a station's card: args.station)"},
	{"scrap_reason_unknown", 400, "Scrap needs one of the plant's scrap reasons.", []string{"field", "operation", "reason", "reasons"}, "scrap without a reason, or with one the plant (or the operation) does not list"},
	{"downtime_reason_unknown", 400, "{reason} is not one of the plant's downtime reasons.", []string{"field", "reason", "reasons"}, "a stop with a reason the plant file does not list"},
	{"station_unknown", 400, "There is no station {station} in the plant.", []string{"field", "station"}, "a request body or query naming a machine the plant does not have"},
	{"downtime_future", 400, "A stop cannot start or end in the future.", []string{"field", "start", "end", "now"}, "a stop reported with a start or an end after now"},
	{"downtime_end_before_start", 400, "The end of a stop is before its start.", []string{"field", "start", "end"}, "a stop whose end is before its start"},
	{"unauthorized", 401, "Not signed in.", nil, "no Bearer token and no session cookie, or a token that is unknown, expired or revoked"},
	{"signin_failed", 401, "Unknown name or wrong password.", nil, "a sign-in (POST /session, POST /login) whose name and password do not match an enabled account"},
	{"token_invalid", 401, "This terminal's token is unknown, expired or revoked: an admin issues a new one.", nil, "POST /session with a token that does not sign in"},
	{"session_ended", 401, "The session has ended: sign in again.", nil, "a session cookie of a session signed out, expired (14 h), or ended by a change of its user (password, roles, disabled, the kiosk token revoked)"},
	{"forbidden", 403, "Your roles do not allow this.", nil, "an action the user's roles do not allow inside a route they may call (an override without the supervisor role)"},
	{"role_required", 403, "This needs the role {roles}.", []string{"roles", "user", "user_roles"}, "a route the user's roles do not allow (ROLES.md)"},
	{"csrf", 403, "The request was refused: reload the page and try again.", nil, "a POST, PUT, PATCH or DELETE with the session cookie but without its X-CSRF-Token, or from another site"},
	{"password_change_required", 403, "Change your password first.", nil, "any request of a user who must change the password, but the change itself (and a sign-in that gives no new_password)"},
	{"not_found", 404, "Not found.", nil, "the record the request names does not exist"},
	{"no_route", 404, "There is no such endpoint.", []string{"method", "path"}, "a path under /api/v1/ the API does not have (see /api/v1/openapi.json)"},
	{"no_session", 404, "This request is signed in with an API token, not a session.", nil, "GET or DELETE /session with a Bearer token"},
	{"card_unknown", 404, "This card is not known to these records: ask the planner for a new one.", []string{"operation"}, "a card signed by another twin or altered, or of an operation not in the records"},
	{"station_not_found", 404, "There is no station {station} in the plant.", []string{"station"}, "a path naming a machine the plant does not have (GET /stations/{id}/card.png)"},
	{"method_not_allowed", 405, "{path} does not take {method}.", []string{"method", "path"}, "a method the path does not take (the Allow header lists those it does)"},
	{"conflict", 409, "The records do not allow this now.", nil, "the request conflicts with the records as they are (exists already, wrong state): the English error says what"},
	{"out_of_sequence", 409, "{operation} is out of sequence: {before} comes first (it passed on {passed}, {asked} asked).", []string{"operation", "rule", "before", "passed", "asked", "broken"}, "a scan the routing's order refuses (a supervisor may override it with a reason)"},
	{"last_admin", 409, "{user} is the last enabled admin.", []string{"user"}, "a change that would leave no enabled admin"},
	{"downtime_overlap", 409, "{station} is already down (stop {other}, {reason}).", []string{"station", "other", "reason", "start"}, "a stop overlapping another of the same station"},
	{"downtime_ended", 409, "This stop has ended already.", []string{"end"}, "ending a stop that ended, at another time"},
	{"report_not_started", 409, "{operation} has not started: start it first.", []string{"operation"}, "a partial confirmation (action report) of an operation not started"},
	{"report_confirmed", 409, "{operation} is confirmed: it takes no more counts.", []string{"operation", "good", "scrap"}, "a partial confirmation of an operation already confirmed"},
	{"records_busy", 409, "The records are busy: try again.", nil, "a change that kept conflicting with concurrent changes of the same records"},
	{"signin_throttled", 429, "Too many failed sign-ins: try again in {retry_after} seconds.", []string{"who", "retry_after"}, "a sign-in too soon after failures of the name or the address (Retry-After)"},
	{"signin_locked", 429, "Too many failed sign-ins: locked for {retry_after} seconds (an admin can unlock it).", []string{"who", "retry_after"}, "a name or an address locked after failed sign-ins"},
	{"internal", 500, "Something went wrong inside the twin (request {request_id}).", []string{"request_id"}, "an internal error: the twin's log has it under request_id"},
	{"busy", 503, "Too many sign-ins at once: try again in a few seconds.", nil, "every password-hashing slot stayed busy (a flood of sign-ins)"},
	{"disk_full", 503, "The twin's disk is full: nothing was recorded.", nil, "a change while the records' disk has no room (the terminal may retry once IT frees space)"},
	{"no_backup", 503, "This twin makes no backups over the API.", nil, "POST /backup of a twin that is not twin serve"},
}

// ErrorCodes returns the catalogue of error codes, in the order of their
// statuses.
func ErrorCodes() []ErrorCode { return slices.Clone(errorCodes) }

var codeOf = func() map[string]ErrorCode {
	m := map[string]ErrorCode{}
	for _, c := range errorCodes {
		if _, dup := m[c.Code]; dup {
			panic("api: error code " + c.Code + " twice in the catalogue")
		}
		m[c.Code] = c
	}
	return m
}()

// argued is an error with what its code's message needs.
type argued interface {
	Args() map[string]any
}

// answer is the status and the body of the answer to err; 500 answers
// are logged by writeErr.
func answer(err error) (int, apiError) {
	e := apiError{Error: err.Error()}
	if fe, ok := errors.AsType[*mes.FieldError](err); ok {
		e.Error, e.Field = fe.Error(), fe.Field
	}
	if c, ok := errors.AsType[coded](err); ok {
		e.Code = c.Code()
		if a, ok := c.(argued); ok {
			e.Args = a.Args()
		}
		if e.Field != "" && e.Args["field"] == nil { // a field error under a coded one
			e.Args = maps.Clone(e.Args)
			if e.Args == nil {
				e.Args = map[string]any{}
			}
			e.Args["field"] = e.Field
		}
		if ec, ok := codeOf[e.Code]; ok {
			return ec.Status, e
		}
		// a code missing from the catalogue (the tests fail on it): its
		// sentinel says the status
	}
	status, code := http.StatusInternalServerError, "internal"
	switch {
	case errors.Is(err, mes.ErrSignInBusy):
		status, code = http.StatusServiceUnavailable, "busy"
	case errors.Is(err, mes.ErrPasswordChange):
		status, code = http.StatusForbidden, "password_change_required"
	case errors.Is(err, mes.ErrAuth):
		status, code = http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, mes.ErrNotFound):
		status, code = http.StatusNotFound, "not_found"
	case errors.Is(err, mes.ErrForbidden):
		status, code = http.StatusForbidden, "forbidden"
	case errors.Is(err, disk.ErrFull):
		status, code = http.StatusServiceUnavailable, "disk_full"
		e.Error = "the twin's disk is full: nothing was recorded; try again when space is freed (" + err.Error() + ")"
	case errors.Is(err, recstore.ErrBusy):
		status, code = http.StatusConflict, "records_busy"
	case errors.Is(err, mes.ErrConflict):
		status, code = http.StatusConflict, "conflict"
	}
	if e.Code == "" {
		e.Code = code
	}
	return status, e
}

func writeErr(w http.ResponseWriter, d *mes.DB, err error) {
	status, e := answer(err)
	switch status {
	case http.StatusTooManyRequests:
		if se, ok := errors.AsType[*mes.SignInError](err); ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(se.RetryAfter.Seconds()))))
		}
	case http.StatusServiceUnavailable:
		switch e.Code {
		case "busy":
			w.Header().Set("Retry-After", "2")
		case "disk_full":
			// nothing was written: the terminal may try again once IT has
			// freed space (the twin resumes by itself)
			w.Header().Set("Retry-After", "60")
		}
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="twin"`)
	case http.StatusInternalServerError:
		// what went wrong stays in the log: the answer names the
		// request, for whoever reads the log
		id := requestID()
		d.Logger().Error("mes api: internal error", "request_id", id, "err", err)
		w.Header().Set("X-Request-Id", id)
		e = apiError{Error: "internal error (the twin's log has it under request_id " + id + ")", Code: "internal", RequestID: id,
			Args: map[string]any{"request_id": id}}
	}
	writeJSON(w, status, e)
}

// roleError is a route the user's roles do not allow.
type roleError struct {
	route string
	roles []string
	user  *mes.User
}

func (e *roleError) Error() string {
	return fmt.Sprintf("%s needs the role %s; %s has %s", e.route, strings.Join(e.roles, " or "), e.user.Name, strings.Join(e.user.Roles, ", "))
}
func (e *roleError) Code() string { return "role_required" }
func (e *roleError) Args() map[string]any {
	return map[string]any{"roles": strings.Join(e.roles, ", "), "user": e.user.Name, "user_roles": strings.Join(e.user.Roles, ", ")}
}

// routeError is a path the API does not have, or a method it does not
// take there.
type routeError struct {
	method, path string
	allow        []string // the methods the path takes (none: no such path)
}

func (e *routeError) Error() string {
	if len(e.allow) > 0 {
		return e.path + " does not take " + e.method + ": it takes " + strings.Join(e.allow, ", ") + " (see /api/v1/openapi.json)"
	}
	return "no such endpoint: " + e.method + " " + e.path + " (see /api/v1/openapi.json)"
}
func (e *routeError) Code() string {
	if len(e.allow) > 0 {
		return "method_not_allowed"
	}
	return "no_route"
}
func (e *routeError) Args() map[string]any { return map[string]any{"method": e.method, "path": e.path} }

// noRoute answers a request no route matched: 405 with Allow when the
// path takes other methods, else 404.
func (a *API) noRoute(w http.ResponseWriter, r *http.Request) {
	e := &routeError{method: r.Method, path: r.URL.Path}
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pat := a.mux.Handler(probe); pat != "" && pat != "/api/v1/" {
			e.allow = append(e.allow, m)
		}
	}
	if len(e.allow) > 0 {
		w.Header().Set("Allow", strings.Join(e.allow, ", "))
	}
	writeErr(w, a.db, e)
}

// placeholder is an {arg} of a message.
var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// documentErrors completes the OpenAPI document doc with the catalogue:
// the Error schema's code (required) enumerates the codes and args is
// described; and with the session cookie, which every route with roles
// takes beside the Bearer token.
func documentErrors(doc map[string]any) {
	comp := doc["components"].(map[string]any)
	e := comp["schemas"].(map[string]any)["Error"].(map[string]any)
	props := e["properties"].(map[string]any)
	var codes []string
	for _, c := range errorCodes {
		codes = append(codes, c.Code)
	}
	props["code"] = map[string]any{"type": "string", "enum": codes,
		"description": "the error's stable code (ERRORS.md: its status, English message and args); the English error may change, the code does not"}
	props["args"] = map[string]any{"type": "object", "additionalProperties": true,
		"description": "what the code's message needs, by name (ERRORS.md): the field, a bound, the operation out of sequence …"}
	e["required"] = []string{"error", "code"}
	comp["securitySchemes"].(map[string]any)["session"] = map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie,
		"description": "a browser's session (POST /session); with it a POST, PUT, PATCH or DELETE also sends the session's CSRF token as " + CSRFHeader + " (else 403 code csrf)"}
	for _, item := range doc["paths"].(map[string]any) {
		for _, op := range item.(map[string]any) {
			op, ok := op.(map[string]any)
			if !ok {
				continue
			}
			if sec, ok := op["security"].([]any); ok && len(sec) > 0 {
				op["security"] = append(sec, map[string]any{"session": []string{}})
			}
		}
	}
}

// ErrorsTable renders the catalogue as the Markdown of ERRORS.md.
func ErrorsTable(cs []ErrorCode) string {
	cs = slices.Clone(cs)
	slices.SortStableFunc(cs, func(a, b ErrorCode) int { return cmp.Compare(a.Status, b.Status) })
	var b strings.Builder
	b.WriteString("| code | status | message (English; `{arg}` from `args`) | args | when |\n|---|---|---|---|---|\n")
	for _, c := range cs {
		args := "–"
		if len(c.Args) > 0 {
			args = "`" + strings.Join(c.Args, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %d | %s | %s | %s |\n", c.Code, c.Status, c.Message, args, c.When)
	}
	return b.String()
}
