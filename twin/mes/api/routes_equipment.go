package api

import (
	"twin/twin/mes"
	"twin/twin/mes/openapi"
)

// Routes of the equipment ledger and maintenance.

func equipmentRoutes() []Route {
	return []Route{
		route("GET", "/equipment", "equipment", "the equipment ledger", readLedger, nil, nil, []mes.Equipment{}, func(c *call) (any, error) {
			return c.db.Equipment()
		}),
		route("GET", "/equipment/{id}", "equipment", "one asset", readLedger, nil, nil, mes.Equipment{}, func(c *call) (any, error) {
			return c.db.Asset(c.r.PathValue("id"))
		}),
		route("PATCH", "/equipment/{id}", "equipment", "change an asset's specs, status or note", roles(mes.RoleMaintenance), nil, mes.EquipmentChange{}, mes.Equipment{}, func(c *call) (any, error) {
			r, err := body[mes.EquipmentChange](c)
			if err != nil {
				return nil, err
			}
			return c.db.ChangeAsset(c.name(), c.r.PathValue("id"), r)
		}),
		route("GET", "/equipment/{id}/history", "equipment", "ledger changes, maintenance and machine states", roles(mes.RoleMaintenance, mes.RoleManager),
			params(pFrom, pTo, pLimit), nil, []mes.HistoryEntry{}, func(c *call) (any, error) {
				from, to, err := c.window()
				if err != nil {
					return nil, err
				}
				n, err := c.limit()
				if err != nil {
					return nil, err
				}
				return c.db.AssetHistory(c.r.PathValue("id"), from, to, n)
			}),
		route("GET", "/maintenance/plans", "maintenance", "plans and how close each is to due", roles(mes.RoleMaintenance, mes.RoleManager, mes.RolePlanner), nil, nil, []mes.MaintStatus{}, func(c *call) (any, error) {
			return c.db.Maintenance(false)
		}),
		route("POST", "/maintenance/plans", "maintenance", "add a plan (calendar or running hours)", roles(mes.RoleMaintenance), nil, mes.NewMaintPlan{}, mes.MaintPlan{}, func(c *call) (any, error) {
			r, err := body[mes.NewMaintPlan](c)
			if err != nil {
				return nil, err
			}
			return c.db.AddMaintPlan(c.name(), r)
		}),
		route("GET", "/maintenance/alarms", "maintenance", "plans due or overdue", roles(mes.RoleMaintenance, mes.RoleManager, mes.RolePlanner, mes.RoleOperator, mes.RoleSupervisor), nil, nil, []mes.MaintStatus{}, func(c *call) (any, error) {
			return c.db.Maintenance(true)
		}),
		route("POST", "/maintenance/completions", "maintenance", "record maintenance done", roles(mes.RoleMaintenance), nil, mes.NewCompletion{}, mes.MaintCompletion{}, func(c *call) (any, error) {
			r, err := body[mes.NewCompletion](c)
			if err != nil {
				return nil, err
			}
			return c.db.CompleteMaintenance(c.name(), r)
		}),
		route("GET", "/maintenance/completions", "maintenance", "maintenance done", roles(mes.RoleMaintenance, mes.RoleManager),
			params(openapi.Param{Name: "unit", In: "query", Type: "string"}, paging), nil, mes.Page[mes.MaintCompletion]{}, func(c *call) (any, error) {
				return paged(c, func(cur string, n int) (mes.Page[mes.MaintCompletion], error) {
					return c.db.Completions(c.str("unit"), cur, n)
				})
			}),
	}
}
