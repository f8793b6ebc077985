package api

import (
	"twin/twin/mes"
	"twin/twin/mes/openapi"
)

// Routes of the shop floor: work orders, operation cards and their QR codes, scans, material bookings, labour.

func floorRoutes() []Route {
	return []Route{
		route("GET", "/floor", "floor", "what the floor's screens need from the plant: its zone and locale, stations, downtime and scrap reasons", readLedger, nil, nil, mes.FloorInfo{}, func(c *call) (any, error) {
			return c.db.Floor(), nil
		}),
		withErrors(route("GET", "/card", "floor", "what a scanned card is: its operation, order, station, work instructions, and what a scan would do next", roles(mes.RolePlanner, mes.RoleOperator, mes.RoleSupervisor),
			params(openapi.Param{Name: "token", In: "query", Type: "string", Required: true, Description: "the text the card's QR code carries"}), nil, mes.CardView{}, func(c *call) (any, error) {
				if len(c.str("token")) > 256 {
					return nil, mes.FieldErr("token", "longer than 256 characters: not a card")
				}
				return c.db.LookUpCard(c.str("token"))
			}), map[int]string{
			400: "Not a card's text (code card_invalid), or a station's card (twin:station:…) where an operation's was wanted.",
			404: "A card this plant's records did not sign, or whose operation they do not have (code card_unknown).",
		}),
		route("GET", "/work-orders", "work orders", "list work orders", readFloor,
			params(pOrder, pStatus, openapi.Param{Name: "open", In: "query", Type: "boolean", Description: "released or in progress only"}, paging),
			nil, mes.Page[mes.WorkOrder]{}, func(c *call) (any, error) {
				open, err := c.bool("open")
				if err != nil {
					return nil, err
				}
				return paged(c, func(cur string, n int) (mes.Page[mes.WorkOrder], error) {
					return c.db.WorkOrders(mes.WorkOrderFilter{Order: c.str("order"), Status: c.str("status"), Open: open}, cur, n)
				})
			}),
		route("GET", "/work-orders/{id}", "work orders", "one work order", readFloor, nil, nil, mes.WorkOrder{}, func(c *call) (any, error) {
			return c.db.WorkOrder(c.r.PathValue("id"))
		}),
		route("GET", "/operations", "work orders", "list operations (cards)", readFloor,
			params(pOrder, openapi.Param{Name: "work_order", In: "query", Type: "string"}, pStation, pStatus, paging), nil, mes.Page[mes.Operation]{}, func(c *call) (any, error) {
				return paged(c, func(cur string, n int) (mes.Page[mes.Operation], error) {
					return c.db.Operations(mes.OperationFilter{Order: c.str("order"), WorkOrder: c.str("work_order"), Station: c.str("station"), Status: c.str("status")}, cur, n)
				})
			}),
		route("GET", "/operations/{id}", "work orders", "one operation, with the machine's count while it runs", readFloor, nil, nil, mes.Operation{}, func(c *call) (any, error) {
			return c.db.Operation(c.r.PathValue("id"))
		}),
		route("GET", "/operations/{id}/card", "work orders", "the card's signed token (what its QR code carries)", roles(mes.RolePlanner, mes.RoleOperator, mes.RoleSupervisor), nil, nil, CardInfo{}, func(c *call) (any, error) {
			o, err := c.db.Operation(c.r.PathValue("id"))
			if err != nil {
				return nil, err
			}
			return CardInfo{Operation: *o, Token: c.db.CardToken(o.ID)}, nil
		}),
		route("GET", "/operations/{id}/card.png", "work orders", "the card's QR code, PNG", roles(mes.RolePlanner, mes.RoleOperator, mes.RoleSupervisor),
			params(openapi.Param{Name: "scale", In: "query", Type: "integer", Description: "pixels per module (default 6)"}), nil, openapi.Raw{ContentType: "image/png"}, cardImage("png")),
		route("GET", "/operations/{id}/card.svg", "work orders", "the card's QR code, SVG", roles(mes.RolePlanner, mes.RoleOperator, mes.RoleSupervisor), nil, nil, openapi.Raw{ContentType: "image/svg+xml"}, cardImage("svg")),
		route("GET", "/stations/{id}/card.png", "floor", "a station's card: the QR code (twin:station:<id>) a terminal scans to pick the machine, PNG", roles(mes.RolePlanner, mes.RoleOperator, mes.RoleSupervisor, mes.RoleMaintenance),
			params(openapi.Param{Name: "scale", In: "query", Type: "integer", Description: "pixels per module (default 6)"}), nil, openapi.Raw{ContentType: "image/png"}, stationImage("png")),
		route("GET", "/stations/{id}/card.svg", "floor", "a station's card, SVG", roles(mes.RolePlanner, mes.RoleOperator, mes.RoleSupervisor, mes.RoleMaintenance),
			params(openapi.Param{Name: "scale", In: "query", Type: "integer", Description: "pixels per module (default 6)"}), nil, openapi.Raw{ContentType: "image/svg+xml"}, stationImage("svg")),
		withErrors(route("POST", "/scan", "floor", "scan a card: start, report a partial count, or confirm its operation (idempotent), in the routing's sequence", onFloor, nil, mes.Scan{}, mes.ScanResult{}, func(c *call) (any, error) {
			r, err := body[mes.Scan](c)
			if err != nil {
				return nil, err
			}
			if err := c.db.ScrapReasonGiven(r); err != nil {
				return nil, err
			}
			return c.db.DoScan(c.name(), r)
		}), map[int]string{
			400: "A field is wrong (the answer's field says which); scrap without a scrap_reason, or one the operation does not offer (code scrap_reason_unknown).",
			403: "The token's roles do not allow this operation, or an override was given by a user without the role supervisor.",
			409: "Out of sequence (code out_of_sequence): the operation that feeds this one has not started, or has passed on fewer units than confirmed here; the message says which and how many. A supervisor may scan it again with an override and a reason. Also: a start on an order that is over; a report on an operation not started (code report_not_started) or confirmed (code report_confirmed).",
		}),
		withErrors(route("POST", "/downtime", "floor", "report a stop of a station with its reason (idempotent by id); omit end while it is down", onFloorOrMaint, nil, mes.NewDowntime{}, mes.Downtime{}, func(c *call) (any, error) {
			r, err := body[mes.NewDowntime](c)
			if err != nil {
				return nil, err
			}
			return c.db.ReportDowntime(c.name(), r)
		}), map[int]string{
			400: "A field is wrong: an unknown station (station_unknown) or reason (downtime_reason_unknown), a start or end in the future (downtime_future), an end before the start (downtime_end_before_start).",
			409: "The station has another stop at that time (code downtime_overlap; args name it): end it first. Stops of one station never overlap, so each minute lost counts against one reason.",
		}),
		withErrors(route("POST", "/downtime/{id}/end", "floor", "end a stop (again at the same time: answered as it is)", onFloorOrMaint, nil, mes.EndDowntime{}, mes.Downtime{}, func(c *call) (any, error) {
			r, err := optBody[mes.EndDowntime](c)
			if err != nil {
				return nil, err
			}
			return c.db.EndStop(c.name(), c.r.PathValue("id"), r)
		}), map[int]string{409: "The stop ended at another time (code downtime_ended)."}),
		route("GET", "/downtime", "floor", "stops of the stations, by start", readLedger,
			params(pStation, openapi.Param{Name: "open", In: "query", Type: "boolean", Description: "still down only"}, pFrom, pTo), nil, []mes.Downtime{}, func(c *call) (any, error) {
				open, err := c.bool("open")
				if err != nil {
					return nil, err
				}
				from, to, err := c.window()
				if err != nil {
					return nil, err
				}
				return c.db.Downtimes(mes.DowntimeFilter{Station: c.str("station"), Open: open, From: from, To: to})
			}),
		route("POST", "/consumptions", "floor", "book material from a lot into units", onFloor, nil, mes.NewConsumption{}, mes.Consumption{}, func(c *call) (any, error) {
			r, err := body[mes.NewConsumption](c)
			if err != nil {
				return nil, err
			}
			return c.db.Consume(c.name(), r)
		}),
		route("GET", "/labour/on", "labour", "the operations a worker is clocked on now", readFloor,
			params(openapi.Param{Name: "worker", In: "query", Type: "string", Description: "the worker's badge id; default the signed-in user"}), nil, []mes.OnCard{}, func(c *call) (any, error) {
				w := c.str("worker")
				if w == "" {
					w = c.name()
				}
				return c.db.ClockedOn(w)
			}),
		route("POST", "/labour/clock", "labour", "clock a worker on or off an operation", onFloor, nil, mes.Clock{}, mes.Labour{}, func(c *call) (any, error) {
			r, err := body[mes.Clock](c)
			if err != nil {
				return nil, err
			}
			return c.db.DoClock(c.name(), r)
		}),
		route("GET", "/labour", "labour", "labour records (closed)", roles(mes.RoleManager),
			params(openapi.Param{Name: "worker", In: "query", Type: "string"}, pOrder, pStation, pFrom, pTo), nil, []mes.Labour{}, func(c *call) (any, error) {
				f, err := labourFilter(c)
				if err != nil {
					return nil, err
				}
				return c.db.Labour(f)
			}),
		route("GET", "/labour/hours", "labour", "hours per worker and day, or per worker and order", roles(mes.RoleManager),
			params(openapi.Param{Name: "by", In: "query", Type: "string", Description: "day (default) or order"}, openapi.Param{Name: "worker", In: "query", Type: "string"}, pOrder, pFrom, pTo), nil, []mes.Hours{}, func(c *call) (any, error) {
				f, err := labourFilter(c)
				if err != nil {
					return nil, err
				}
				by := c.str("by")
				if by == "" {
					by = "day"
				}
				if by != "day" && by != "order" {
					return nil, mes.FieldErr("by", "want day or order, got %q", by)
				}
				ls, err := c.db.Labour(f)
				if err != nil {
					return nil, err
				}
				return c.db.HoursBy(ls, by, f.From, f.To), nil
			}),
		route("GET", "/labour/payroll.csv", "labour", "payroll export (CSV; layout in README.md)", roles(mes.RoleManager),
			params(openapi.Param{Name: "worker", In: "query", Type: "string"}, pFrom, pTo), nil, openapi.Raw{ContentType: "text/csv"}, func(c *call) (any, error) {
				f, err := labourFilter(c)
				if err != nil {
					return nil, err
				}
				ls, err := c.db.Labour(f)
				if err != nil {
					return nil, err
				}
				c.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
				c.w.Header().Set("Content-Disposition", `attachment; filename="payroll.csv"`)
				return nil, c.db.WritePayroll(c.w, ls, f.From, f.To)
			}),
	}
}
