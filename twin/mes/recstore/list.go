package recstore

import (
	"bytes"
	"encoding/base64"

	badger "github.com/dgraph-io/badger/v4"
)

// Page is one page of a list and the cursor of the next ("" at the end).
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty" doc:"pass as cursor= for the next page"`
}

// List reads the records under prefix in key order, starting after
// cursor, keeping those keep accepts (nil: all), until limit are found
// (limit ≤ 0: 100). The cursor is the last key read, base64url: opaque to
// clients, and refused when it is not of this list. A damaged record is
// left out of a read's list (counted and logged) and fails a change's
// (see Get).
func List[T any](t *Tx, prefix, cursor string, limit int, keep func(*T) bool) (Page[T], error) {
	return scan(t, prefix, cursor, limit, func(k []byte, item *badger.Item) (*T, error) {
		v := new(T)
		if err := item.Value(func(b []byte) error { return decodeInto(b, v) }); err != nil {
			d := t.s.damaged(string(k), err)
			if t.write {
				return nil, d
			}
			return nil, nil
		}
		if keep != nil && !keep(v) {
			return nil, nil
		}
		return v, nil
	})
}

// ListIndex reads the records kind/<id> named by the index keys under
// prefix (x/<by>/<owner>/<kind>/), as List.
func ListIndex[T any](t *Tx, prefix, kind, cursor string, limit int, keep func(*T) bool) (Page[T], error) {
	return scan(t, prefix, cursor, limit, func(k []byte, _ *badger.Item) (*T, error) {
		id := string(k[len(prefix):])
		v := new(T)
		ok, err := t.Get(kind+"/"+id, v)
		if err != nil || !ok || keep != nil && !keep(v) {
			return nil, err
		}
		return v, nil
	})
}

func scan[T any](t *Tx, prefix, cursor string, limit int, decode func([]byte, *badger.Item) (*T, error)) (Page[T], error) {
	page := Page[T]{Items: []T{}}
	if limit <= 0 {
		limit = 100
	}
	start := []byte(prefix)
	if cursor != "" {
		c, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !bytes.HasPrefix(c, []byte(prefix)) {
			return page, FieldErr("cursor", "not a cursor of this list")
		}
		start = append(c, 0)
	}
	opt := badger.DefaultIteratorOptions
	opt.Prefix = []byte(prefix)
	opt.PrefetchValues = false
	it := t.t.NewIterator(opt)
	defer it.Close()
	var last []byte
	for it.Seek(start); it.Valid(); it.Next() {
		k := it.Item().KeyCopy(nil)
		v, err := decode(k, it.Item())
		if err != nil {
			return page, err
		}
		if v == nil {
			continue
		}
		if len(page.Items) == limit {
			page.Next = base64.RawURLEncoding.EncodeToString(last)
			break
		}
		page.Items = append(page.Items, *v)
		last = k
	}
	return page, nil
}
