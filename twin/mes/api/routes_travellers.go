package api

import (
	"bytes"
	"net/http"

	"twin/twin/mes"
	"twin/twin/mes/openapi"
	"twin/twin/mes/traveller"
)

// Routes of the printed job travellers (流转卡): a work order's cards, to
// print at release.

var pSize = openapi.Param{Name: "size", In: "query", Type: "string", Description: "a4 (default: eight cards on an A4 sheet, with cut lines) or label (one 100×70 mm card a page, for a label printer)"}

func travellerRoutes() []Route {
	planners := roles(mes.RolePlanner, mes.RoleSupervisor)
	return []Route{
		route("GET", "/work-orders/{id}/travellers.html", "work orders", "the work order's job travellers (流转卡) to print: a card per operation with its QR code, in the plant's locale; HTML with print CSS, no script",
			planners, params(pSize), nil, openapi.Raw{ContentType: "text/html"}, travellers("html")),
		route("GET", "/work-orders/{id}/travellers.pdf", "work orders", "the work order's job travellers (流转卡) as PDF, its font embedded",
			planners, params(pSize), nil, openapi.Raw{ContentType: "application/pdf"}, travellers("pdf")),
	}
}

func travellers(format string) handler {
	return func(c *call) (any, error) {
		size, err := traveller.ParseSize(c.str("size"))
		if err != nil {
			return nil, mes.FieldErr("size", "want a4 (eight cards on an A4 sheet) or label (one 100×70 mm card a page), got %q", c.str("size"))
		}
		w, err := c.db.WorkOrder(c.r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		o, err := c.db.Order(w.Order)
		if err != nil {
			return nil, err
		}
		ops := make([]mes.Operation, 0, len(w.Operations))
		for _, id := range w.Operations {
			op, err := c.db.Operation(id)
			if err != nil {
				return nil, err
			}
			ops = append(ops, *op)
		}
		s := traveller.Build(c.db.Plant(), o, w, ops, c.db.CardToken, c.db.Now())
		var b bytes.Buffer
		h := c.w.Header()
		name := "travellers-" + w.ID + "-" + size.String()
		if format == "pdf" {
			err = s.PDF(&b, size)
			h.Set("Content-Type", "application/pdf")
			h.Set("Content-Disposition", `inline; filename="`+name+`.pdf"`)
		} else {
			err = s.HTML(&b, size)
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Security-Policy", traveller.CSP(size))
		}
		if err != nil {
			return nil, err
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		c.w.WriteHeader(http.StatusOK)
		c.w.Write(b.Bytes())
		return nil, nil
	}
}
