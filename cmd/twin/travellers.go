package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func init() {
	register(&Command{
		Name:  "travellers",
		Usage: "WORK-ORDER --out FILE.pdf|FILE.html [--size a4|label] [flags]",
		Short: "print a work order's job travellers (流转卡): a card per operation with its QR code",
		Long: `Travellers fetches a work order's job travellers (流转卡) from the records
API of a running twin (--server, default $TWIN_SERVER; --token, default
$TWIN_API_TOKEN, of a planner or supervisor; --ca, default $TWIN_CA) and
writes them to --out: a PDF (its Chinese font embedded: it prints the same
from any computer) or an HTML page with print CSS, by the file's ending.

Each card carries its operation's QR code (the token an operator's scan
sends) and, in the plant's locale, the order, customer, product, the
operation (step n of m), its work centre and machines, the quantity, the
due time (plant time, the zone named), the work order, and a row to sign
(operator, date, good, scrap, inspector).

  --size a4      eight cards on each A4 sheet, dashed lines to cut along (default)
  --size label   one 100×70 mm card a page, for a label printer

The same from a browser (signed in as a planner):
  https://HOST:8080/api/v1/work-orders/WORK-ORDER/travellers.pdf?size=a4
  https://HOST:8080/api/v1/work-orders/WORK-ORDER/travellers.html?size=label

A released order's work orders are PO-ID-PRODUCT (the product's) and
PO-ID-PART (each part made in the plant): twin orders show PO-ID lists them.`,
		Run: runTravellers,
	})
}

func runTravellers(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["travellers"], stdout)
	mk := clientFlags(fs)
	out := fs.String("out", "", "the `FILE` to write: .pdf or .html")
	size := fs.String("size", "a4", "a4 (eight cards an A4 sheet) or label (one 100×70 mm card a page)")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return errUsage
	}
	if *size != "a4" && *size != "label" {
		return flagError{fmt.Errorf("--size: want a4 or label, got %q", *size)}
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(*out)), ".")
	if format == "htm" {
		format = "html"
	}
	if format != "pdf" && format != "html" {
		return flagError{fmt.Errorf("--out %s: want a file ending in .pdf or .html", *out)}
	}
	c := mk(stdout)
	if c.err != nil {
		return c.err
	}
	b, err := c.Travellers(ctx, pos[0], format, *size)
	if err != nil {
		return c.explain(err)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("write the travellers: %w", err)
	}
	fmt.Fprintf(stdout, "%s: the travellers of %s (%s, %s, %d bytes)\n", *out, pos[0], strings.ToUpper(format), *size, len(b))
	return nil
}
