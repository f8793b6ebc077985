package model

import (
	"math"
	"testing"
	"time"

	"twin/plant"
	"twin/sim"
)

// TestFileDSTBill bills one Sunday of testdata/plants/dst.yaml under
// valley 23:00–07:00 at 0.10, peak 11:00–17:00 and 20:00–22:00 at 0.40,
// flat otherwise at 0.25 EUR/kWh. The Sunday of the spring change in
// Europe/Berlin is 23 h long, the autumn one 25 h; in Asia/Shanghai the
// same dates have 24 h. By the wall clock:
//
//	press P1, 7.5 kW busy in its shifts (to 06:00, 07:30–15:30, from 22:00), 0.5 kW off them:
//	  busy  valley 00:00–06:00 and 23:00–24:00, flat 07:30–11:00 and 22:00–23:00, peak 11:00–15:30
//	  off   valley 06:00–07:00, flat 07:00–07:30 and 17:00–20:00, peak 15:30–17:00 and 20:00–22:00
//	saw S1, 10 kW busy 07:00–15:00 on the order released at 07:00, 1 kW idle otherwise:
//	  busy  flat 07:00–11:00, peak 11:00–15:00
//	  idle  valley 00:00–07:00 and 23:00–24:00, flat 17:00–20:00 and 22:00–23:00, peak 15:00–17:00 and 20:00–22:00
//
// The valley takes the hour the clock skips or repeats: 00:00–07:00 is
// 6 h in spring, 8 h in autumn, 7 h without a change.
func TestFileDSTBill(t *testing.T) {
	cases := []struct {
		zone     string
		saturday plant.Date
		hours    float64 // the Sunday's length
	}{
		{"Europe/Berlin", plant.Date{Year: 2026, Month: time.March, Day: 28}, 23},
		{"Europe/Berlin", plant.Date{Year: 2026, Month: time.October, Day: 24}, 25},
		{"Asia/Shanghai", plant.Date{Year: 2026, Month: time.March, Day: 28}, 24},
	}
	file := load(t, "dst.yaml")()
	for _, c := range cases {
		t.Run(c.zone+"/"+c.saturday.String(), func(t *testing.T) {
			loc, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			p := *file
			p.Location = loc
			day := func(d, h int) time.Time {
				return time.Date(c.saturday.Year, c.saturday.Month, c.saturday.Day+d, h, 0, 0, 0, loc)
			}
			sat, sun, mon := day(0, 0), day(1, 0), day(2, 0)
			if got := mon.Sub(sun).Hours(); got != c.hours {
				t.Fatalf("the Sunday is %v h long, want %v", got, c.hours)
			}
			press, saw := file.Demand.Orders[0], file.Demand.Orders[1]
			press.Release, press.Due = sat, sat.AddDate(0, 1, 0)
			saw.Release, saw.Due = day(1, 7), mon
			m, err := New(&p, Options{Seed: 1, Start: sat, Warmup: sim.Time(sun.Sub(sat)), Horizon: sim.Time(mon.Sub(sun)),
				Orders: []plant.Order{press, saw}})
			if err != nil {
				t.Fatal(err)
			}
			r := m.Run()
			night := c.hours - 24 + 7 // 00:00–07:00, in hours
			want := map[string]float64{
				"valley": (night-1+1)*7.5 + 1*0.5 + (night+1)*1,
				"flat":   4.5*7.5 + 3.5*0.5 + 4*10 + 4*1,
				"peak":   4.5*7.5 + 3.5*0.5 + 4*10 + 4*1,
			}
			cost := want["valley"]*0.10 + want["flat"]*0.25 + want["peak"]*0.40
			total := want["valley"] + want["flat"] + want["peak"]
			t.Logf("%s, Sunday %s (%v h): %.2f kWh, %.4f EUR; kWh by band %v", c.zone, sun.Format(time.DateOnly), c.hours, r.EnergyKWh, r.EnergyCost, r.EnergyByBand)
			for band, kwh := range want {
				if math.Abs(r.EnergyByBand[band]-kwh) > 1e-9 {
					t.Errorf("%s: %.6f kWh, want %g", band, r.EnergyByBand[band], kwh)
				}
			}
			if math.Abs(r.EnergyKWh-total) > 1e-9 || math.Abs(r.EnergyCost-cost) > 1e-9 {
				t.Errorf("the Sunday: %.6f kWh for %.6f EUR, want %g kWh for %.4f EUR", r.EnergyKWh, r.EnergyCost, total, cost)
			}
			if off := r.Stations[0].StateHours["off"]; math.Abs(off-8) > 1e-9 {
				t.Errorf("the press off its shifts %.6f h, want 8 (06:00–07:30, 15:30–22:00 by the clock): %v", off, r.Stations[0].StateHours)
			}
		})
	}
}
