package plant

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"twin/plant/yamldec"
)

// Shift calendars and worker pools.

func (d *decoder) calendar(n *yaml.Node, field string) {
	c := &Calendar{}
	var idNode *yaml.Node
	d.fields(n, "calendar", field, func(key string, v *yaml.Node) {
		f := yamldec.Join(field, key)
		switch key {
		case "id":
			idNode = v
			c.ID = d.id(v, f)
		case "always":
			c.Always = d.Boolean(v, f)
		case "shifts":
			for i, sn := range d.List(v, f, false) {
				c.Shifts = append(c.Shifts, d.shift(sn, yamldec.Join(f, yamldec.IDOf(sn, i))))
			}
		case "holidays":
			hs, nodes := d.Strs(v, f)
			for i, h := range hs {
				a, b, isRange := strings.Cut(h, "..")
				from, err := parseDate(a)
				if err != nil {
					d.Errorf(nodes[i], f, "%v (or a range like 2026-10-01..2026-10-07)", err)
					continue
				}
				to := from
				if isRange {
					if to, err = parseDate(b); err != nil {
						d.Errorf(nodes[i], f, "%v", err)
						continue
					}
				}
				t0 := time.Date(from.Year, from.Month, from.Day, 0, 0, 0, 0, time.UTC)
				t1 := time.Date(to.Year, to.Month, to.Day, 0, 0, 0, 0, time.UTC)
				if t1.Before(t0) || t1.Sub(t0) > 366*24*time.Hour {
					d.Errorf(nodes[i], f, "holiday range %q runs backwards or over a year", h)
					continue
				}
				for t := t0; !t.After(t1); t = t.AddDate(0, 0, 1) {
					c.Holidays = append(c.Holidays, Date{t.Year(), t.Month(), t.Day()})
				}
			}
		}
	})
	if idNode == nil {
		d.Errorf(n, field+".id", "want an id")
		return
	}
	if !c.Always && len(c.Shifts) == 0 {
		d.Errorf(n, field, "want shifts, or always: true")
	}
	if d.calByID[c.ID] != nil {
		d.Errorf(idNode, field+".id", "calendar %q defined twice", c.ID)
	}
	d.calByID[c.ID] = c
	d.p.Calendars = append(d.p.Calendars, c)
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func parseDays(s string) ([7]bool, error) {
	var days [7]bool
	idx := func(x string) int {
		x = strings.ToLower(strings.TrimSpace(x))
		if len(x) >= 3 {
			x = x[:3]
		}
		for i, n := range dayNames {
			if n == x {
				return i
			}
		}
		return -1
	}
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		i := idx(a)
		if i < 0 {
			return days, fmt.Errorf("want days like mon-fri or mon,wed,fri, got %q", s)
		}
		j := i
		if isRange {
			if j = idx(b); j < 0 {
				return days, fmt.Errorf("want days like mon-fri or mon,wed,fri, got %q", s)
			}
		}
		for k := i; ; k = (k + 1) % 7 {
			days[k] = true
			if k == j {
				break
			}
		}
	}
	return days, nil
}

func (d *decoder) shift(n *yaml.Node, field string) Shift {
	s := Shift{}
	for i := time.Monday; i <= time.Friday; i++ {
		s.Days[i] = true
	}
	var start, end bool
	d.fields(n, "shift", field, func(key string, v *yaml.Node) {
		f := yamldec.Join(field, key)
		switch key {
		case "name":
			s.Name = d.Str(v, f)
		case "days":
			if str, ok := d.Scalar(v, f, "days like mon-fri"); ok {
				days, err := parseDays(str)
				if err != nil {
					d.Errorf(v, f, "%v", err)
				}
				s.Days = days
			}
		case "start", "end":
			if str, ok := d.Scalar(v, f, "a time of day like 08:00"); ok {
				t, err := ParseTimeOfDay(str)
				if err != nil {
					d.Errorf(v, f, "%v", err)
				}
				if key == "start" {
					s.Start, start = t, true
				} else {
					s.End, end = t, true
				}
			}
		case "breaks":
			bs, nodes := d.Strs(v, f)
			for i, b := range bs {
				sp, err := parseSpan(b)
				if err != nil {
					d.Errorf(nodes[i], f, "%v", err)
					continue
				}
				s.Breaks = append(s.Breaks, sp)
			}
		}
	})
	if !start || !end {
		d.Errorf(n, field, "want start and end times of day")
	}
	if s.Start == 24*time.Hour {
		d.Errorf(n, field+".start", "a shift cannot start at 24:00; write 00:00")
	}
	if s.End == s.Start && start && end {
		d.Errorf(n, field+".end", "the shift ends when it starts")
	}
	return s
}

func (d *decoder) pool(n *yaml.Node, field string) {
	pl := &Pool{PerShift: map[string]int{}}
	d.fields(n, "pool", field, func(key string, v *yaml.Node) {
		f := yamldec.Join(field, key)
		switch key {
		case "id":
			pl.ID = d.id(v, f)
		case "skill":
			pl.Skill = d.Str(v, f)
		case "count":
			pl.Count = d.Int(v, f, "a whole number", 0, 1<<20)
		case "per_shift":
			dv := yamldec.Deref(v)
			if dv == nil || dv.Kind != yaml.MappingNode {
				d.Errorf(v, f, "want a mapping of shift names to worker counts, got %s", yamldec.KindName(v))
				return
			}
			for _, kv := range yamldec.Pairs(dv) {
				pl.PerShift[yamldec.Deref(kv[0]).Value] = d.Int(kv[1], yamldec.Join(f, yamldec.Deref(kv[0]).Value), "a whole number", 0, 1<<20)
			}
		case "calendar":
			pl.Calendar = d.calRef(v, f)
		}
	})
	if pl.ID == "" {
		d.Errorf(n, field+".id", "want an id")
	}
	if pl.Skill == "" {
		pl.Skill = pl.ID
	}
	if d.skills[pl.Skill] {
		d.Errorf(n, field+".skill", "two pools have skill %q; one pool per skill", pl.Skill)
	}
	d.skills[pl.Skill] = true
	d.p.Pools = append(d.p.Pools, pl)
}
