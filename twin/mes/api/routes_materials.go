package api

import (
	"twin/twin/mes"
	"twin/twin/mes/openapi"
)

// Routes of materials: lots, units, genealogy backward and forward.

func materialRoutes() []Route {
	return []Route{
		route("POST", "/lots", "materials", "receive a lot of a purchased part", roles(mes.RolePlanner), nil, mes.NewLot{}, mes.Lot{}, func(c *call) (any, error) {
			r, err := body[mes.NewLot](c)
			if err != nil {
				return nil, err
			}
			return c.db.ReceiveLot(c.name(), r)
		}),
		route("GET", "/lots", "materials", "list lots", readGenealog, params(openapi.Param{Name: "material", In: "query", Type: "string"}, paging), nil, mes.Page[mes.Lot]{}, func(c *call) (any, error) {
			return paged(c, func(cur string, n int) (mes.Page[mes.Lot], error) { return c.db.Lots(c.str("material"), cur, n) })
		}),
		route("GET", "/lots/{id}/where-used", "materials", "forward genealogy: the units, orders and customers a lot reached", readGenealog, nil, nil, mes.Forward{}, func(c *call) (any, error) {
			return c.db.Where(c.r.PathValue("id"))
		}),
		route("GET", "/units/{serial}", "materials", "one unit by serial number", readFloor, nil, nil, mes.Unit{}, func(c *call) (any, error) {
			return c.db.Unit(c.r.PathValue("serial"))
		}),
		route("GET", "/units/{serial}/genealogy", "materials", "backward genealogy: lots, part work orders, operations, inspections", readGenealog, nil, nil, mes.Backward{}, func(c *call) (any, error) {
			return c.db.Genealogy(c.r.PathValue("serial"))
		}),
	}
}
