package api

import (
	"errors"
	"net/http"
	"time"
	"twin/twin/mes"
	"twin/twin/mes/openapi"
	"twin/twin/mes/recstore"
)

// Routes of the audit log and the users.

// AuditCheck is what a check of the audit chain found.
type AuditCheck struct {
	Intact   bool      `json:"intact" doc:"every entry's hash and link hold, and every anchor matches"`
	Entries  int       `json:"entries" doc:"entries checked (up to the first broken one)"`
	Last     uint64    `json:"last_seq"`
	LastAt   time.Time `json:"last_at,omitzero"`
	Anchors  int       `json:"anchors" doc:"anchors that matched"`
	Anchored time.Time `json:"anchored_at,omitzero" doc:"the latest anchor's time"`
	BrokenAt uint64    `json:"broken_at,omitempty" doc:"the first entry altered, removed or reordered"`
	Broken   string    `json:"broken,omitempty"`
}

func adminRoutes() []Route {
	return []Route{
		route("GET", "/audit/verify", "audit", "check the audit log's hash chain and its anchors: the first entry altered, removed or reordered", roles(mes.RoleManager, mes.RoleAdmin),
			nil, nil, AuditCheck{}, func(c *call) (any, error) {
				rep, err := c.db.VerifyAudit()
				out := AuditCheck{Intact: err == nil}
				if rep != nil {
					out.Entries, out.Last, out.LastAt, out.Anchors, out.Anchored = rep.Entries, rep.Last, rep.LastAt, rep.Anchors, rep.Anchored
				}
				if b, ok := errors.AsType[*recstore.Broken](err); ok {
					out.BrokenAt, out.Broken = b.Seq, b.What
					return out, nil
				}
				return out, err
			}),
		route("GET", "/audit", "audit", "the audit log (read only)", roles(mes.RoleManager, mes.RoleAdmin),
			params(openapi.Param{Name: "kind", In: "query", Type: "string", Description: "record kind (order, operation, …)"}, openapi.Param{Name: "id", In: "query", Type: "string"}, pFrom, pTo, paging),
			nil, mes.Page[mes.AuditEntry]{}, func(c *call) (any, error) {
				from, to, err := c.window()
				if err != nil {
					return nil, err
				}
				return paged(c, func(cur string, n int) (mes.Page[mes.AuditEntry], error) {
					return c.db.Audit(c.str("kind"), c.str("id"), from, to, cur, n)
				})
			}),
		route("GET", "/users", "users", "accounts", roles(mes.RoleAdmin), nil, nil, []mes.User{}, func(c *call) (any, error) { return c.db.Users() }),
		route("POST", "/users", "users", "make an account", roles(mes.RoleAdmin), nil, mes.NewUser{}, mes.User{}, func(c *call) (any, error) {
			r, err := body[mes.NewUser](c)
			if err != nil {
				return nil, err
			}
			return c.db.CreateUser(c.name(), r)
		}),
		withErrors(route("PATCH", "/users/{name}", "users", "change roles, password or disable (each revokes every token of the user)", roles(mes.RoleAdmin), nil, mes.UserChange{}, mes.User{}, func(c *call) (any, error) {
			r, err := body[mes.UserChange](c)
			if err != nil {
				return nil, err
			}
			return c.db.ChangeUser(c.name(), c.r.PathValue("name"), r)
		}), map[int]string{http.StatusConflict: "the change would leave no enabled admin (code last_admin)"}),
		route("POST", "/users/{name}/unlock", "users", "end the lockout of an account after failed sign-ins, and forget its failures (audited signin.unlock)", roles(mes.RoleAdmin), nil, nil, mes.Lockout{}, func(c *call) (any, error) {
			return c.db.Unlock(c.name(), c.r.PathValue("name"))
		}),
		route("POST", "/users/{name}/tokens", "users", "issue an API token (shown once)", roles(mes.RoleAdmin), nil, mes.NewToken{}, mes.Issued{}, func(c *call) (any, error) {
			r, err := body[mes.NewToken](c)
			if err != nil {
				return nil, err
			}
			return c.db.IssueToken(c.name(), c.r.PathValue("name"), r)
		}),
		route("GET", "/signins", "users", "names and addresses with failed sign-ins that still count: their waits and lockouts", roles(mes.RoleAdmin), nil, nil, mes.SignInStatus{}, func(c *call) (any, error) {
			return c.db.SignIns()
		}),
	}
}
