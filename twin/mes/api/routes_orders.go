package api

import (
	"twin/twin/mes"
	"twin/twin/mes/openapi"
)

// Routes of production orders: enter, release, cancel, close short, make-ups, their records.

func orderRoutes() []Route {
	return []Route{
		route("GET", "/orders", "orders", "list production orders", readOrders,
			params(pStatus, pFrom, pTo, openapi.Param{Name: "product", In: "query", Type: "string"}, openapi.Param{Name: "customer", In: "query", Type: "string"}, paging),
			nil, mes.Page[mes.Order]{}, func(c *call) (any, error) {
				from, to, err := c.window()
				if err != nil {
					return nil, err
				}
				return paged(c, func(cur string, n int) (mes.Page[mes.Order], error) {
					return c.db.Orders(mes.OrderFilter{Status: c.str("status"), Product: c.str("product"), Customer: c.str("customer"), From: from, To: to}, cur, n)
				})
			}),
		route("POST", "/orders", "orders", "enter a production order", roles(mes.RolePlanner), nil, mes.NewOrder{}, mes.Order{}, func(c *call) (any, error) {
			r, err := body[mes.NewOrder](c)
			if err != nil {
				return nil, err
			}
			return c.db.CreateOrder(c.name(), r)
		}),
		route("GET", "/orders/{id}", "orders", "one order", readOrders, nil, nil, mes.Order{}, func(c *call) (any, error) {
			return c.db.Order(c.r.PathValue("id"))
		}),
		route("POST", "/orders/{id}/release", "orders", "release to the floor: work orders, cards, serial numbers", roles(mes.RolePlanner), nil, nil, mes.Order{}, func(c *call) (any, error) {
			return c.db.ReleaseOrder(c.name(), c.r.PathValue("id"))
		}),
		route("POST", "/orders/{id}/cancel", "orders", "cancel an order not started", roles(mes.RolePlanner), nil, nil, mes.Order{}, func(c *call) (any, error) {
			return c.db.CancelOrder(c.name(), c.r.PathValue("id"))
		}),
		withErrors(route("POST", "/orders/{id}/close", "orders", "close an order short, with a reason: it completes with the good units it has", roles(mes.RolePlanner), nil, mes.CloseRequest{}, mes.Order{}, func(c *call) (any, error) {
			r, err := body[mes.CloseRequest](c)
			if err != nil {
				return nil, err
			}
			return c.db.CloseOrder(c.name(), c.r.PathValue("id"), r)
		}), map[int]string{409: "The order is not in progress (a planned or released one is cancelled instead), or has operations started (confirm them first)."}),
		withErrors(route("POST", "/orders/{id}/makeup", "orders", "release a make-up for scrap: a work order of the product (by default the shortfall), the part work orders a unit needs, cards and serial numbers", roles(mes.RolePlanner), nil, mes.MakeUpRequest{}, mes.MakeUp{}, func(c *call) (any, error) {
			r, err := optBody[mes.MakeUpRequest](c)
			if err != nil {
				return nil, err
			}
			return c.db.ReleaseMakeUp(c.name(), c.r.PathValue("id"), r)
		}), map[int]string{409: "The order is not released or in progress, or is not short and no quantity was given."}),
		route("GET", "/orders/{id}/records", "orders", "every record of an order", readOrders, nil, nil, mes.OrderRecords{}, func(c *call) (any, error) {
			return c.db.Records(c.r.PathValue("id"))
		}),
	}
}
