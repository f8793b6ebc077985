package api

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"twin/twin/mes"
)

// String limits of request bodies: every string of a body, at any depth
// (a field, an item of a list, a key or a value of a map), is at most as
// long as its field's maxlen tag says, in characters (`maxlen:"200"`; the
// OpenAPI document shows it as maxLength), and at most defaultMaxLen when
// the field has none. A longer one is refused with a 400 naming the field
// (customer, characteristics[2].name, specs.voltage). Ids keep their own
// rule besides (1–64 letters, digits and - _ . :, twin/mes).

// defaultMaxLen bounds the strings of a field without a maxlen tag.
const defaultMaxLen = 200

// maxLen is the bound of the strings of struct field f.
func maxLen(f reflect.StructField) int {
	if s := f.Tag.Get("maxlen"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
		panic(fmt.Sprintf("api: %s: maxlen tag %q is not a positive number", f.Name, s))
	}
	return defaultMaxLen
}

// checkLengths refuses the first string in v longer than its field
// allows (limit, for a value outside any struct).
func checkLengths(v reflect.Value, field string, limit int) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkLengths(v.Elem(), field, limit)
	case reflect.String:
		if n := utf8.RuneCountInString(v.String()); n > limit {
			if field == "" {
				field = "body"
			}
			return coded400(mes.FieldErr(field, "longer than %d characters (%d given)", limit, n), "too_long", "max", limit)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() && !f.Anonymous {
				continue
			}
			path := field
			if !f.Anonymous || name != "" {
				if name == "" {
					name = f.Name
				}
				path = fieldPath(field, name)
			}
			if err := checkLengths(v.Field(i), path, maxLen(f)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes: raw JSON, base64
		}
		for i := range v.Len() {
			if err := checkLengths(v.Index(i), fmt.Sprintf("%s[%d]", field, i), limit); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			k := it.Key()
			if k.Kind() == reflect.String {
				if n := utf8.RuneCountInString(k.String()); n > limit {
					return coded400(mes.FieldErr(field, "a key longer than %d characters (%d given)", limit, n), "too_long", "max", limit)
				}
			}
			if err := checkLengths(it.Value(), fieldPath(field, fmt.Sprint(k)), limit); err != nil {
				return err
			}
		}
	}
	return nil
}
