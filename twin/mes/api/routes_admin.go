package api

import (
	"twin/twin/mes"
	"twin/twin/mes/openapi"
)

// Routes of the audit log and the users.

func adminRoutes() []Route {
	return []Route{
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
		route("PATCH", "/users/{name}", "users", "change roles, password or disable", roles(mes.RoleAdmin), nil, mes.UserChange{}, mes.User{}, func(c *call) (any, error) {
			r, err := body[mes.UserChange](c)
			if err != nil {
				return nil, err
			}
			return c.db.ChangeUser(c.name(), c.r.PathValue("name"), r)
		}),
		route("POST", "/users/{name}/tokens", "users", "issue an API token (shown once)", roles(mes.RoleAdmin), nil, mes.NewToken{}, mes.Issued{}, func(c *call) (any, error) {
			r, err := body[mes.NewToken](c)
			if err != nil {
				return nil, err
			}
			return c.db.IssueToken(c.name(), c.r.PathValue("name"), r)
		}),
	}
}
