package api

// The route table: every endpoint of the records API, the roles it
// allows, its parameters and bodies (for the OpenAPI document), and its
// handler.

import (
	"net/http"
	"strconv"
	"strings"

	"twin/twin/mes/openapi"

	"twin/twin/mes"
)

var (
	pLimit   = openapi.Param{Name: "limit", In: "query", Type: "integer", Description: "page size, 1–1000 (default 100)"}
	pCursor  = openapi.Param{Name: "cursor", In: "query", Type: "string", Description: "the next page: the previous page's next"}
	pFrom    = openapi.Param{Name: "from", In: "query", Type: "string", Description: "from this time: RFC 3339, or plant time without an offset (YYYY-MM-DD[THH:MM[:SS]])"}
	pTo      = openapi.Param{Name: "to", In: "query", Type: "string", Description: "up to this time (exclusive): RFC 3339, or plant time without an offset"}
	pOrder   = openapi.Param{Name: "order", In: "query", Type: "string", Description: "of this order"}
	pStation = openapi.Param{Name: "station", In: "query", Type: "string", Description: "at this machine (id)"}
	pStatus  = openapi.Param{Name: "status", In: "query", Type: "string", Description: "in this status"}
	paging   = []openapi.Param{pLimit, pCursor}
)

func params(ps ...any) []openapi.Param {
	var out []openapi.Param
	for _, p := range ps {
		switch p := p.(type) {
		case openapi.Param:
			out = append(out, p)
		case []openapi.Param:
			out = append(out, p...)
		}
	}
	return out
}

func route(method, path, tag, summary string, roles []string, ps []openapi.Param, req, resp any, h handler) Route {
	return Route{Route: openapi.Route{Method: method, Path: "/api/v1" + path, Tag: tag, Summary: summary, Roles: roles, Params: ps, Request: req, Response: resp}, h: h}
}

func roles(r ...string) []string { return r }

// pending lets a user who must change the password call the route.
func pending(r Route) Route {
	r.pending = true
	return r
}

// signInErrors are the answers of a route that checks a password.
var signInErrors = map[int]string{
	http.StatusTooManyRequests:    "too many failed sign-ins for the name or from the address: wait Retry-After seconds (code signin_throttled), or the name or address is locked out (code signin_locked; an admin unlocks it: POST /users/{name}/unlock)",
	http.StatusServiceUnavailable: "every password-hashing slot is busy (a flood of sign-ins): try again after Retry-After seconds (code busy)",
}

// withErrors documents the error responses particular to a route.
func withErrors(r Route, errs map[int]string) Route {
	r.Errors = errs
	return r
}

var (
	readOrders = roles(mes.RolePlanner, mes.RoleManager, mes.RoleQuality)
	readFloor  = roles(mes.RolePlanner, mes.RoleManager, mes.RoleOperator, mes.RoleSupervisor, mes.RoleQuality)
	readLedger = roles(mes.RoleMaintenance, mes.RolePlanner, mes.RoleManager, mes.RoleOperator, mes.RoleSupervisor, mes.RoleQuality)
	onFloor    = roles(mes.RoleOperator, mes.RoleSupervisor) // the shop floor's changes
	// stops are reported by the floor and by the maintenance technicians
	// who repair them
	onFloorOrMaint = roles(mes.RoleOperator, mes.RoleSupervisor, mes.RoleMaintenance)
	readGenealog   = roles(mes.RoleQuality, mes.RolePlanner, mes.RoleManager)
)

func routes() []Route {
	rs := []Route{
		route("GET", "/openapi.json", "meta", "this document", nil, nil, nil, map[string]any{}, func(c *call) (any, error) {
			return nil, nil // served by NewAPI's handler below
		}),
		withErrors(route("POST", "/login", "users", "sign in with a name and password: a 12-hour token (with new_password: change the password first)", nil, nil, mes.Login{}, mes.Issued{}, func(c *call) (any, error) {
			r, err := body[mes.Login](c)
			if err != nil {
				return nil, err
			}
			return c.db.LogIn(c.r.Context(), r, source(c.r))
		}), signInErrors),
		pending(route("GET", "/me", "users", "the signed-in user", mes.Roles, nil, nil, mes.User{}, func(c *call) (any, error) { return c.user, nil })),
		pending(withErrors(route("POST", "/me/password", "users", "change your own password: a new 12-hour token (the change revokes every token of yours)", mes.Roles, nil, mes.PasswordChange{}, mes.Issued{}, func(c *call) (any, error) {
			r, err := body[mes.PasswordChange](c)
			if err != nil {
				return nil, err
			}
			return c.db.ChangePassword(c.r.Context(), c.name(), r, source(c.r))
		}), signInErrors)),
	}
	for _, area := range [][]Route{orderRoutes(), floorRoutes(), planningRoutes(), materialRoutes(), qualityRoutes(), equipmentRoutes(), kpiRoutes(), adminRoutes(), backupRoutes(), travellerRoutes()} {
		rs = append(rs, area...)
	}
	for i := range rs {
		if rs[i].Method == "POST" && (strings.HasSuffix(rs[i].Path, "/orders") || strings.HasSuffix(rs[i].Path, "/lots") ||
			strings.HasSuffix(rs[i].Path, "/inspections") || strings.HasSuffix(rs[i].Path, "/users") || strings.HasSuffix(rs[i].Path, "/plans") ||
			strings.HasSuffix(rs[i].Path, "/completions") || strings.HasSuffix(rs[i].Path, "/consumptions") || strings.HasSuffix(rs[i].Path, "/tokens") ||
			strings.HasSuffix(rs[i].Path, "/makeup")) {
			rs[i].Status = http.StatusCreated
		}
	}
	return rs
}

// CardInfo is an operation and its card's token.
type CardInfo struct {
	Operation mes.Operation `json:"operation"`
	Token     string        `json:"token"`
}

// PlanBody is the body of an inspection plan.
type PlanBody struct {
	Characteristics []mes.Characteristic `json:"characteristics"`
}

func cardImage(format string) handler {
	return func(c *call) (any, error) {
		scale := 6
		if s := c.str("scale"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 40 {
				return nil, mes.FieldErr("scale", "want 1 to 40, got %q", s)
			}
			scale = n
		}
		b, err := c.db.Card(c.r.PathValue("id"), format, scale)
		if err != nil {
			return nil, err
		}
		ct := "image/png"
		if format == "svg" {
			ct = "image/svg+xml"
		}
		c.w.Header().Set("Content-Type", ct)
		c.w.Write(b)
		return nil, nil
	}
}

func stationImage(format string) handler {
	return func(c *call) (any, error) {
		scale, err := cardScale(c)
		if err != nil {
			return nil, err
		}
		b, err := c.db.StationCard(c.r.PathValue("id"), format, scale)
		if err != nil {
			return nil, err
		}
		c.w.Header().Set("Content-Type", map[string]string{"png": "image/png", "svg": "image/svg+xml"}[format])
		c.w.Write(b)
		return nil, nil
	}
}

// cardScale reads a card image's pixels per module (default 6).
func cardScale(c *call) (int, error) {
	s := c.str("scale")
	if s == "" {
		return 6, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 40 {
		return 0, mes.FieldErr("scale", "want 1 to 40, got %q", s)
	}
	return n, nil
}

func labourFilter(c *call) (mes.LabourFilter, error) {
	from, to, err := c.window()
	return mes.LabourFilter{Worker: c.str("worker"), Order: c.str("order"), Station: c.str("station"), From: from, To: to}, err
}
