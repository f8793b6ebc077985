package api

import (
	"twin/twin/mes"
	"twin/twin/mes/openapi"
)

// Routes of quality: inspection plans, inspections, nonconformances, count flags.

func qualityRoutes() []Route {
	return []Route{
		route("GET", "/inspection-plans", "quality", "inspection plans", roles(mes.RoleQuality, mes.RoleOperator, mes.RoleSupervisor, mes.RoleManager), nil, nil, []mes.InspectionPlan{}, func(c *call) (any, error) {
			return c.db.InspectionPlans()
		}),
		route("PUT", "/inspection-plans/{routing}/{op}", "quality", "replace an inspection plan", roles(mes.RoleQuality), nil, PlanBody{}, mes.InspectionPlan{}, func(c *call) (any, error) {
			r, err := body[PlanBody](c)
			if err != nil {
				return nil, err
			}
			return c.db.SetInspectionPlan(c.name(), mes.InspectionPlan{Routing: c.r.PathValue("routing"), Op: c.r.PathValue("op"), Characteristics: r.Characteristics})
		}),
		route("POST", "/inspections", "quality", "record an inspection result (a failure opens a nonconformance)", roles(mes.RoleQuality), nil, mes.NewInspection{}, mes.Inspection{}, func(c *call) (any, error) {
			r, err := body[mes.NewInspection](c)
			if err != nil {
				return nil, err
			}
			return c.db.Inspect(c.name(), r)
		}),
		route("GET", "/inspections", "quality", "inspection results", roles(mes.RoleQuality, mes.RoleManager),
			params(pOrder, openapi.Param{Name: "serial", In: "query", Type: "string"}, pStation, pFrom, pTo, paging), nil, mes.Page[mes.Inspection]{}, func(c *call) (any, error) {
				from, to, err := c.window()
				if err != nil {
					return nil, err
				}
				return paged(c, func(cur string, n int) (mes.Page[mes.Inspection], error) {
					return c.db.Inspections(mes.InspectionFilter{Order: c.str("order"), Serial: c.str("serial"), Station: c.str("station"), From: from, To: to}, cur, n)
				})
			}),
		route("GET", "/nonconformances", "quality", "nonconformances", roles(mes.RoleQuality, mes.RoleManager, mes.RolePlanner),
			params(pOrder, openapi.Param{Name: "open", In: "query", Type: "boolean"}, paging), nil, mes.Page[mes.Nonconformance]{}, func(c *call) (any, error) {
				open, err := c.bool("open")
				if err != nil {
					return nil, err
				}
				return paged(c, func(cur string, n int) (mes.Page[mes.Nonconformance], error) {
					return c.db.Nonconformances(c.str("order"), open, cur, n)
				})
			}),
		route("POST", "/nonconformances/{id}/disposition", "quality", "decide: rework, scrap or use as is", roles(mes.RoleQuality), nil, mes.Disposition{}, mes.Nonconformance{}, func(c *call) (any, error) {
			r, err := body[mes.Disposition](c)
			if err != nil {
				return nil, err
			}
			return c.db.Dispose(c.name(), c.r.PathValue("id"), r)
		}),
		route("GET", "/flags", "quality", "manual counts that disagree with the machines'", roles(mes.RoleQuality, mes.RoleManager, mes.RolePlanner),
			params(pOrder, paging), nil, mes.Page[mes.Flag]{}, func(c *call) (any, error) {
				return paged(c, func(cur string, n int) (mes.Page[mes.Flag], error) { return c.db.Flags(c.str("order"), cur, n) })
			}),
	}
}
