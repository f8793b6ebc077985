// Package traveller prints job travellers (流转卡): for a work order, a
// card per operation carrying the operation card's QR code (its signed
// token) and, for a person, the order, customer, product, operation (step
// n of m), work centre, quantity and due date in plant time, with a row to
// sign off the operation. As HTML with print CSS (no script) and as PDF
// with its Chinese font embedded (font/: WenQuanYi Micro Hei, a GB2312
// subset, Apache-2.0), on A4 sheets of eight cards with cut lines, or one
// 100 × 70 mm card per page for a label printer.
//
// It is not the records (twin/mes gives it their work order and
// operations) nor their API (twin/mes/api serves it).
//
//	s := traveller.Build(p, order, workOrder, ops, db.CardToken, time.Now())
//	s.PDF(w, traveller.A4)
package traveller
