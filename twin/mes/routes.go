package mes

// The route table: every endpoint of the records API, the roles it
// allows, its parameters and bodies (for the OpenAPI document), and its
// handler.

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"twin/twin/forecast"
	"twin/twin/mes/openapi"
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

// withErrors documents the error responses particular to a route.
func withErrors(r Route, errs map[int]string) Route {
	r.Errors = errs
	return r
}

var (
	readOrders   = roles(RolePlanner, RoleManager, RoleQuality)
	readFloor    = roles(RolePlanner, RoleManager, RoleOperator, RoleSupervisor, RoleQuality)
	readLedger   = roles(RoleMaintenance, RolePlanner, RoleManager, RoleOperator, RoleSupervisor, RoleQuality)
	onFloor      = roles(RoleOperator, RoleSupervisor) // the shop floor's changes
	readGenealog = roles(RoleQuality, RolePlanner, RoleManager)
)

func routes() []Route {
	rs := []Route{
		route("GET", "/openapi.json", "meta", "this document", nil, nil, nil, map[string]any{}, func(c *call) (any, error) {
			return nil, nil // served by NewAPI's handler below
		}),
		route("POST", "/login", "users", "sign in with a name and password: a 12-hour token", nil, nil, Login{}, Issued{}, func(c *call) (any, error) {
			r, err := body[Login](c)
			if err != nil {
				return nil, err
			}
			return c.db.LogIn(r)
		}),
		route("GET", "/me", "users", "the signed-in user", Roles, nil, nil, User{}, func(c *call) (any, error) { return c.user, nil }),

		// orders
		route("GET", "/orders", "orders", "list production orders", readOrders,
			params(pStatus, pFrom, pTo, openapi.Param{Name: "product", In: "query", Type: "string"}, openapi.Param{Name: "customer", In: "query", Type: "string"}, paging),
			nil, Page[Order]{}, func(c *call) (any, error) {
				from, to, err := c.window()
				if err != nil {
					return nil, err
				}
				return paged(c, func(cur string, n int) (Page[Order], error) {
					return c.db.Orders(OrderFilter{Status: c.str("status"), Product: c.str("product"), Customer: c.str("customer"), From: from, To: to}, cur, n)
				})
			}),
		route("POST", "/orders", "orders", "enter a production order", roles(RolePlanner), nil, NewOrder{}, Order{}, func(c *call) (any, error) {
			r, err := body[NewOrder](c)
			if err != nil {
				return nil, err
			}
			return c.db.CreateOrder(c.name(), r)
		}),
		route("GET", "/orders/{id}", "orders", "one order", readOrders, nil, nil, Order{}, func(c *call) (any, error) {
			return c.db.Order(c.r.PathValue("id"))
		}),
		route("POST", "/orders/{id}/release", "orders", "release to the floor: work orders, cards, serial numbers", roles(RolePlanner), nil, nil, Order{}, func(c *call) (any, error) {
			return c.db.ReleaseOrder(c.name(), c.r.PathValue("id"))
		}),
		route("POST", "/orders/{id}/cancel", "orders", "cancel an order not started", roles(RolePlanner), nil, nil, Order{}, func(c *call) (any, error) {
			return c.db.CancelOrder(c.name(), c.r.PathValue("id"))
		}),
		withErrors(route("POST", "/orders/{id}/close", "orders", "close an order short, with a reason: it completes with the good units it has", roles(RolePlanner), nil, CloseRequest{}, Order{}, func(c *call) (any, error) {
			r, err := body[CloseRequest](c)
			if err != nil {
				return nil, err
			}
			return c.db.CloseOrder(c.name(), c.r.PathValue("id"), r)
		}), map[int]string{409: "The order is not in progress (a planned or released one is cancelled instead), or has operations started (confirm them first)."}),
		withErrors(route("POST", "/orders/{id}/makeup", "orders", "release a make-up for scrap: a work order of the product (by default the shortfall), the part work orders a unit needs, cards and serial numbers", roles(RolePlanner), nil, MakeUpRequest{}, MakeUp{}, func(c *call) (any, error) {
			r, err := optBody[MakeUpRequest](c)
			if err != nil {
				return nil, err
			}
			return c.db.ReleaseMakeUp(c.name(), c.r.PathValue("id"), r)
		}), map[int]string{409: "The order is not released or in progress, or is not short and no quantity was given."}),
		route("GET", "/orders/{id}/records", "orders", "every record of an order", readOrders, nil, nil, OrderRecords{}, func(c *call) (any, error) {
			return c.db.Records(c.r.PathValue("id"))
		}),

		// work orders and cards
		route("GET", "/work-orders", "work orders", "list work orders", readFloor,
			params(pOrder, pStatus, openapi.Param{Name: "open", In: "query", Type: "boolean", Description: "released or in progress only"}, paging),
			nil, Page[WorkOrder]{}, func(c *call) (any, error) {
				open, err := c.bool("open")
				if err != nil {
					return nil, err
				}
				return paged(c, func(cur string, n int) (Page[WorkOrder], error) {
					return c.db.WorkOrders(WorkOrderFilter{Order: c.str("order"), Status: c.str("status"), Open: open}, cur, n)
				})
			}),
		route("GET", "/work-orders/{id}", "work orders", "one work order", readFloor, nil, nil, WorkOrder{}, func(c *call) (any, error) {
			return c.db.WorkOrder(c.r.PathValue("id"))
		}),
		route("GET", "/operations", "work orders", "list operations (cards)", readFloor,
			params(pOrder, openapi.Param{Name: "work_order", In: "query", Type: "string"}, pStation, pStatus, paging), nil, Page[Operation]{}, func(c *call) (any, error) {
				return paged(c, func(cur string, n int) (Page[Operation], error) {
					return c.db.Operations(OperationFilter{Order: c.str("order"), WorkOrder: c.str("work_order"), Station: c.str("station"), Status: c.str("status")}, cur, n)
				})
			}),
		route("GET", "/operations/{id}", "work orders", "one operation, with the machine's count while it runs", readFloor, nil, nil, Operation{}, func(c *call) (any, error) {
			return c.db.Operation(c.r.PathValue("id"))
		}),
		route("GET", "/operations/{id}/card", "work orders", "the card's signed token (what its QR code carries)", roles(RolePlanner, RoleOperator, RoleSupervisor), nil, nil, CardInfo{}, func(c *call) (any, error) {
			o, err := c.db.Operation(c.r.PathValue("id"))
			if err != nil {
				return nil, err
			}
			return CardInfo{Operation: *o, Token: c.db.CardToken(o.ID)}, nil
		}),
		route("GET", "/operations/{id}/card.png", "work orders", "the card's QR code, PNG", roles(RolePlanner, RoleOperator, RoleSupervisor),
			params(openapi.Param{Name: "scale", In: "query", Type: "integer", Description: "pixels per module (default 6)"}), nil, openapi.Raw{ContentType: "image/png"}, cardImage("png")),
		route("GET", "/operations/{id}/card.svg", "work orders", "the card's QR code, SVG", roles(RolePlanner, RoleOperator, RoleSupervisor), nil, nil, openapi.Raw{ContentType: "image/svg+xml"}, cardImage("svg")),
		withErrors(route("POST", "/scan", "floor", "scan a card: start or confirm its operation (idempotent), in the routing's sequence", onFloor, nil, Scan{}, ScanResult{}, func(c *call) (any, error) {
			r, err := body[Scan](c)
			if err != nil {
				return nil, err
			}
			return c.db.DoScan(c.name(), r)
		}), map[int]string{
			403: "The token's roles do not allow this operation, or an override was given by a user without the role supervisor.",
			409: "Out of sequence (code out_of_sequence): the operation that feeds this one has not started, or has passed on fewer units than confirmed here; the message says which and how many. A supervisor may scan it again with an override and a reason. Also: a start on an order that is over.",
		}),
		route("POST", "/consumptions", "floor", "book material from a lot into units", onFloor, nil, NewConsumption{}, Consumption{}, func(c *call) (any, error) {
			r, err := body[NewConsumption](c)
			if err != nil {
				return nil, err
			}
			return c.db.Consume(c.name(), r)
		}),
		route("POST", "/labour/clock", "labour", "clock a worker on or off an operation", onFloor, nil, Clock{}, Labour{}, func(c *call) (any, error) {
			r, err := body[Clock](c)
			if err != nil {
				return nil, err
			}
			return c.db.DoClock(c.name(), r)
		}),
		route("GET", "/labour", "labour", "labour records (closed)", roles(RoleManager),
			params(openapi.Param{Name: "worker", In: "query", Type: "string"}, pOrder, pStation, pFrom, pTo), nil, []Labour{}, func(c *call) (any, error) {
				f, err := labourFilter(c)
				if err != nil {
					return nil, err
				}
				return c.db.Labour(f)
			}),
		route("GET", "/labour/hours", "labour", "hours per worker and day, or per worker and order", roles(RoleManager),
			params(openapi.Param{Name: "by", In: "query", Type: "string", Description: "day (default) or order"}, openapi.Param{Name: "worker", In: "query", Type: "string"}, pOrder, pFrom, pTo), nil, []Hours{}, func(c *call) (any, error) {
				f, err := labourFilter(c)
				if err != nil {
					return nil, err
				}
				by := c.str("by")
				if by == "" {
					by = "day"
				}
				if by != "day" && by != "order" {
					return nil, fieldErr("by", "want day or order, got %q", by)
				}
				ls, err := c.db.Labour(f)
				if err != nil {
					return nil, err
				}
				return c.db.HoursBy(ls, by, f.From, f.To), nil
			}),
		route("GET", "/labour/payroll.csv", "labour", "payroll export (CSV; layout in README.md)", roles(RoleManager),
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

		// schedule
		route("POST", "/schedule", "planning", "compute a day's finite-capacity schedule with the simulator", roles(RolePlanner),
			params(openapi.Param{Name: "day", In: "query", Type: "string", Description: "YYYY-MM-DD (default today)"}), nil, Schedule{}, func(c *call) (any, error) {
				return c.db.ComputeSchedule(c.name(), c.str("day"))
			}),
		route("GET", "/schedule", "planning", "a day's schedule as last computed", roles(RolePlanner, RoleManager, RoleOperator, RoleSupervisor, RoleMaintenance),
			params(openapi.Param{Name: "day", In: "query", Type: "string"}), nil, Schedule{}, func(c *call) (any, error) {
				return c.db.Schedule(c.str("day"))
			}),

		route("GET", "/forecast", "planning", "forecast the open orders from where the plant stands now: their expected completion (median, p10, p90), on-time chance, the bottleneck, energy", roles(RolePlanner, RoleManager),
			params(openapi.Param{Name: "replications", In: "query", Type: "integer", Description: "futures to draw (1 to 200, default 60)"},
				openapi.Param{Name: "horizon", In: "query", Type: "string", Description: "how far ahead, a duration like 72h (default: until the open orders are done)"}),
			nil, forecast.Result{}, func(c *call) (any, error) {
				var opt forecast.Options
				if s := c.str("replications"); s != "" {
					n, err := strconv.Atoi(s)
					if err != nil || n < 1 || n > 200 {
						return nil, fieldErr("replications", "want 1 to 200, got %q", s)
					}
					opt.Replications = n
				}
				if s := c.str("horizon"); s != "" {
					d, err := time.ParseDuration(s)
					if err != nil || d <= 0 || d > 365*24*time.Hour {
						return nil, fieldErr("horizon", "want a duration like 72h, at most a year, got %q", s)
					}
					opt.Horizon = d
				}
				return c.db.Forecast(c.r.Context(), opt)
			}),

		// materials
		route("POST", "/lots", "materials", "receive a lot of a purchased part", roles(RolePlanner), nil, NewLot{}, Lot{}, func(c *call) (any, error) {
			r, err := body[NewLot](c)
			if err != nil {
				return nil, err
			}
			return c.db.ReceiveLot(c.name(), r)
		}),
		route("GET", "/lots", "materials", "list lots", readGenealog, params(openapi.Param{Name: "material", In: "query", Type: "string"}, paging), nil, Page[Lot]{}, func(c *call) (any, error) {
			return paged(c, func(cur string, n int) (Page[Lot], error) { return c.db.Lots(c.str("material"), cur, n) })
		}),
		route("GET", "/lots/{id}/where-used", "materials", "forward genealogy: the units, orders and customers a lot reached", readGenealog, nil, nil, Forward{}, func(c *call) (any, error) {
			return c.db.Where(c.r.PathValue("id"))
		}),
		route("GET", "/units/{serial}", "materials", "one unit by serial number", readFloor, nil, nil, Unit{}, func(c *call) (any, error) {
			return c.db.Unit(c.r.PathValue("serial"))
		}),
		route("GET", "/units/{serial}/genealogy", "materials", "backward genealogy: lots, part work orders, operations, inspections", readGenealog, nil, nil, Backward{}, func(c *call) (any, error) {
			return c.db.Genealogy(c.r.PathValue("serial"))
		}),

		// quality
		route("GET", "/inspection-plans", "quality", "inspection plans", roles(RoleQuality, RoleOperator, RoleSupervisor, RoleManager), nil, nil, []InspectionPlan{}, func(c *call) (any, error) {
			return c.db.InspectionPlans()
		}),
		route("PUT", "/inspection-plans/{routing}/{op}", "quality", "replace an inspection plan", roles(RoleQuality), nil, PlanBody{}, InspectionPlan{}, func(c *call) (any, error) {
			r, err := body[PlanBody](c)
			if err != nil {
				return nil, err
			}
			return c.db.SetInspectionPlan(c.name(), InspectionPlan{Routing: c.r.PathValue("routing"), Op: c.r.PathValue("op"), Characteristics: r.Characteristics})
		}),
		route("POST", "/inspections", "quality", "record an inspection result (a failure opens a nonconformance)", roles(RoleQuality), nil, NewInspection{}, Inspection{}, func(c *call) (any, error) {
			r, err := body[NewInspection](c)
			if err != nil {
				return nil, err
			}
			return c.db.Inspect(c.name(), r)
		}),
		route("GET", "/inspections", "quality", "inspection results", roles(RoleQuality, RoleManager),
			params(pOrder, openapi.Param{Name: "serial", In: "query", Type: "string"}, pStation, pFrom, pTo, paging), nil, Page[Inspection]{}, func(c *call) (any, error) {
				from, to, err := c.window()
				if err != nil {
					return nil, err
				}
				return paged(c, func(cur string, n int) (Page[Inspection], error) {
					return c.db.Inspections(InspectionFilter{Order: c.str("order"), Serial: c.str("serial"), Station: c.str("station"), From: from, To: to}, cur, n)
				})
			}),
		route("GET", "/nonconformances", "quality", "nonconformances", roles(RoleQuality, RoleManager, RolePlanner),
			params(pOrder, openapi.Param{Name: "open", In: "query", Type: "boolean"}, paging), nil, Page[Nonconformance]{}, func(c *call) (any, error) {
				open, err := c.bool("open")
				if err != nil {
					return nil, err
				}
				return paged(c, func(cur string, n int) (Page[Nonconformance], error) {
					return c.db.Nonconformances(c.str("order"), open, cur, n)
				})
			}),
		route("POST", "/nonconformances/{id}/disposition", "quality", "decide: rework, scrap or use as is", roles(RoleQuality), nil, Disposition{}, Nonconformance{}, func(c *call) (any, error) {
			r, err := body[Disposition](c)
			if err != nil {
				return nil, err
			}
			return c.db.Dispose(c.name(), c.r.PathValue("id"), r)
		}),
		route("GET", "/flags", "quality", "manual counts that disagree with the machines'", roles(RoleQuality, RoleManager, RolePlanner),
			params(pOrder, paging), nil, Page[Flag]{}, func(c *call) (any, error) {
				return paged(c, func(cur string, n int) (Page[Flag], error) { return c.db.Flags(c.str("order"), cur, n) })
			}),

		// equipment and maintenance
		route("GET", "/equipment", "equipment", "the equipment ledger", readLedger, nil, nil, []Equipment{}, func(c *call) (any, error) {
			return c.db.Equipment()
		}),
		route("GET", "/equipment/{id}", "equipment", "one asset", readLedger, nil, nil, Equipment{}, func(c *call) (any, error) {
			return c.db.Asset(c.r.PathValue("id"))
		}),
		route("PATCH", "/equipment/{id}", "equipment", "change an asset's specs, status or note", roles(RoleMaintenance), nil, EquipmentChange{}, Equipment{}, func(c *call) (any, error) {
			r, err := body[EquipmentChange](c)
			if err != nil {
				return nil, err
			}
			return c.db.ChangeAsset(c.name(), c.r.PathValue("id"), r)
		}),
		route("GET", "/equipment/{id}/history", "equipment", "ledger changes, maintenance and machine states", roles(RoleMaintenance, RoleManager),
			params(pFrom, pTo, pLimit), nil, []HistoryEntry{}, func(c *call) (any, error) {
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
		route("GET", "/maintenance/plans", "maintenance", "plans and how close each is to due", roles(RoleMaintenance, RoleManager, RolePlanner), nil, nil, []MaintStatus{}, func(c *call) (any, error) {
			return c.db.Maintenance(false)
		}),
		route("POST", "/maintenance/plans", "maintenance", "add a plan (calendar or running hours)", roles(RoleMaintenance), nil, NewMaintPlan{}, MaintPlan{}, func(c *call) (any, error) {
			r, err := body[NewMaintPlan](c)
			if err != nil {
				return nil, err
			}
			return c.db.AddMaintPlan(c.name(), r)
		}),
		route("GET", "/maintenance/alarms", "maintenance", "plans due or overdue", roles(RoleMaintenance, RoleManager, RolePlanner, RoleOperator, RoleSupervisor), nil, nil, []MaintStatus{}, func(c *call) (any, error) {
			return c.db.Maintenance(true)
		}),
		route("POST", "/maintenance/completions", "maintenance", "record maintenance done", roles(RoleMaintenance), nil, NewCompletion{}, MaintCompletion{}, func(c *call) (any, error) {
			r, err := body[NewCompletion](c)
			if err != nil {
				return nil, err
			}
			return c.db.CompleteMaintenance(c.name(), r)
		}),
		route("GET", "/maintenance/completions", "maintenance", "maintenance done", roles(RoleMaintenance, RoleManager),
			params(openapi.Param{Name: "unit", In: "query", Type: "string"}, paging), nil, Page[MaintCompletion]{}, func(c *call) (any, error) {
				return paged(c, func(cur string, n int) (Page[MaintCompletion], error) { return c.db.Completions(c.str("unit"), cur, n) })
			}),

		// KPIs
		route("GET", "/kpis", "kpis", "OEE and its factors, FPY, scrap, delivery, lead time, energy, CO2 and labour per unit (ISO 22400-2)", roles(RoleManager, RolePlanner, RoleQuality, RoleMaintenance),
			params(openapi.Param{Name: "by", In: "query", Type: "string", Description: "station, line, order or day", Required: true}, pFrom, pTo, pStation, openapi.Param{Name: "line", In: "query", Type: "string"}, pOrder),
			nil, []KPI{}, func(c *call) (any, error) {
				from, to, err := c.window()
				if err != nil {
					return nil, err
				}
				if c.str("by") == "" {
					return nil, fieldErr("by", "required: station, line, order or day")
				}
				return c.db.KPIs(KPIQuery{By: c.str("by"), From: from, To: to, Station: c.str("station"), Line: c.str("line"), Order: c.str("order")})
			}),

		// audit and users
		route("GET", "/audit", "audit", "the audit log (read only)", roles(RoleManager, RoleAdmin),
			params(openapi.Param{Name: "kind", In: "query", Type: "string", Description: "record kind (order, operation, …)"}, openapi.Param{Name: "id", In: "query", Type: "string"}, pFrom, pTo, paging),
			nil, Page[AuditEntry]{}, func(c *call) (any, error) {
				from, to, err := c.window()
				if err != nil {
					return nil, err
				}
				return paged(c, func(cur string, n int) (Page[AuditEntry], error) {
					return c.db.Audit(c.str("kind"), c.str("id"), from, to, cur, n)
				})
			}),
		route("GET", "/users", "users", "accounts", roles(RoleAdmin), nil, nil, []User{}, func(c *call) (any, error) { return c.db.Users() }),
		route("POST", "/users", "users", "make an account", roles(RoleAdmin), nil, NewUser{}, User{}, func(c *call) (any, error) {
			r, err := body[NewUser](c)
			if err != nil {
				return nil, err
			}
			return c.db.CreateUser(c.name(), r)
		}),
		route("PATCH", "/users/{name}", "users", "change roles, password or disable", roles(RoleAdmin), nil, UserChange{}, User{}, func(c *call) (any, error) {
			r, err := body[UserChange](c)
			if err != nil {
				return nil, err
			}
			return c.db.ChangeUser(c.name(), c.r.PathValue("name"), r)
		}),
		route("POST", "/users/{name}/tokens", "users", "issue an API token (shown once)", roles(RoleAdmin), nil, NewToken{}, Issued{}, func(c *call) (any, error) {
			r, err := body[NewToken](c)
			if err != nil {
				return nil, err
			}
			return c.db.IssueToken(c.name(), c.r.PathValue("name"), r)
		}),
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
	Operation Operation `json:"operation"`
	Token     string    `json:"token"`
}

// PlanBody is the body of an inspection plan.
type PlanBody struct {
	Characteristics []Characteristic `json:"characteristics"`
}

func cardImage(format string) handler {
	return func(c *call) (any, error) {
		scale := 6
		if s := c.str("scale"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 40 {
				return nil, fieldErr("scale", "want 1 to 40, got %q", s)
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

func labourFilter(c *call) (LabourFilter, error) {
	from, to, err := c.window()
	return LabourFilter{Worker: c.str("worker"), Order: c.str("order"), Station: c.str("station"), From: from, To: to}, err
}
