package api

import (
	"strconv"
	"time"
	"twin/twin/forecast"
	"twin/twin/mes"
	"twin/twin/mes/openapi"
	"twin/twin/mes/schedule"
)

// Routes of planning: the schedule and the forecast, both computed by the simulator (twin/mes/schedule).

func planningRoutes() []Route {
	return []Route{
		route("POST", "/schedule", "planning", "compute a day's finite-capacity schedule with the simulator", roles(mes.RolePlanner),
			params(openapi.Param{Name: "day", In: "query", Type: "string", Description: "YYYY-MM-DD (default today)"}), nil, schedule.Schedule{}, func(c *call) (any, error) {
				return c.plan.Compute(c.name(), c.str("day"))
			}),
		route("GET", "/schedule", "planning", "a day's schedule as last computed", roles(mes.RolePlanner, mes.RoleManager, mes.RoleOperator, mes.RoleSupervisor, mes.RoleMaintenance),
			params(openapi.Param{Name: "day", In: "query", Type: "string"}), nil, schedule.Schedule{}, func(c *call) (any, error) {
				return c.plan.Get(c.str("day"))
			}),

		route("GET", "/forecast", "planning", "forecast the open orders from where the plant stands now: their expected completion (median, p10, p90), on-time chance, the bottleneck, energy", roles(mes.RolePlanner, mes.RoleManager),
			params(openapi.Param{Name: "replications", In: "query", Type: "integer", Description: "futures to draw (1 to 200, default 60)"},
				openapi.Param{Name: "horizon", In: "query", Type: "string", Description: "how far ahead, a duration like 72h (default: until the open orders are done)"}),
			nil, forecast.Result{}, func(c *call) (any, error) {
				var opt forecast.Options
				if s := c.str("replications"); s != "" {
					n, err := strconv.Atoi(s)
					if err != nil || n < 1 || n > 200 {
						return nil, mes.FieldErr("replications", "want 1 to 200, got %q", s)
					}
					opt.Replications = n
				}
				if s := c.str("horizon"); s != "" {
					d, err := time.ParseDuration(s)
					if err != nil || d <= 0 || d > 365*24*time.Hour {
						return nil, mes.FieldErr("horizon", "want a duration like 72h, at most a year, got %q", s)
					}
					opt.Horizon = d
				}
				return c.plan.Forecast(c.r.Context(), opt)
			}),
	}
}
