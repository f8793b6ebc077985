package api

import (
	"twin/twin/mes"
	"twin/twin/mes/openapi"
)

// Routes of the KPIs (ISO 22400-2).

func kpiRoutes() []Route {
	return []Route{
		route("GET", "/kpis", "kpis", "OEE and its factors, FPY, scrap, delivery, lead time, energy, CO2 and labour per unit (ISO 22400-2)", roles(mes.RoleManager, mes.RolePlanner, mes.RoleQuality, mes.RoleMaintenance),
			params(openapi.Param{Name: "by", In: "query", Type: "string", Description: "station, line, order or day", Required: true}, pFrom, pTo, pStation, openapi.Param{Name: "line", In: "query", Type: "string"}, pOrder),
			nil, []mes.KPI{}, func(c *call) (any, error) {
				from, to, err := c.window()
				if err != nil {
					return nil, err
				}
				if c.str("by") == "" {
					return nil, mes.FieldErr("by", "required: station, line, order or day")
				}
				return c.db.KPIs(mes.KPIQuery{By: c.str("by"), From: from, To: to, Station: c.str("station"), Line: c.str("line"), Order: c.str("order")})
			}),
	}
}
