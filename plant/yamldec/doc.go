// Package yamldec reads YAML documents field by field for the plant and
// scenario decoders: located errors (file:line:column, the dotted field
// and what was expected), mappings checked key by key (unknown keys with
// the nearest known one, repeated keys, merge keys), and scalars read as
// strings, numbers, whole numbers and booleans. Every problem is
// collected, not only the first, and input never panics.
//
// It is not a schema language nor a binder to Go structs: each decoder
// walks its own format and decides what each value means.
//
//	d := &yamldec.Decoder{File: "plant.yaml"}
//	d.Fields(n, "power", yamldec.Mapping{Keys: []string{"idle", "busy"}}, func(key string, k, v *yaml.Node) bool {
//		kw[key] = d.Number(v, yamldec.Join("power", key))
//		return true
//	})
//	if len(d.Errs) > 0 {
//		d.Errs.Sort()
//		return d.Errs // plant.yaml:13:40: power.bussy: unknown key "bussy" (did you mean "busy"?); known: idle, busy
//	}
package yamldec
