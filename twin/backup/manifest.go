package backup

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/proto"
)

// FormatVersion is the version of the backup file's format (FORMAT.md)
// this build writes; it reads every version up to it (1: the Badger
// parts uncompressed; 2: compressed, Part.Compression).
const FormatVersion = 2

// ManifestName is the backup file's first entry.
const ManifestName = "manifest.json"

// The kinds of backup.
const (
	Full        = "full"
	Incremental = "incremental"
)

// CompressZstd is a Badger part compressed with Zstandard (RFC 8878).
const CompressZstd = "zstd"

// The kinds of part.
const (
	KindBadger = "badger" // a Badger database in its backup format
	KindFile   = "file"   // a file of the data directory, as it is
)

// Manifest says what a backup file holds.
type Manifest struct {
	Format  int    `json:"format"`
	Build   string `json:"build" maxlen:"128"`         // the twin that wrote it
	ID      string `json:"id" maxlen:"64"`             // this backup's, random
	Kind    string `json:"kind" maxlen:"16"`           // Full or Incremental
	Prev    string `json:"prev,omitempty" maxlen:"64"` // the backup an increment follows
	Created string `json:"created" maxlen:"64"`        // RFC 3339 in the plant's zone
	Zone    string `json:"zone" maxlen:"64"`           // that zone's name
	Parts   []Part `json:"parts"`
}

// Part is one entry of a backup file after the manifest.
type Part struct {
	Name string `json:"name" maxlen:"256"` // its name in the archive
	Kind string `json:"kind" maxlen:"16"`  // KindBadger, KindFile
	// Path is where it goes in a data directory ("" the directory
	// itself: the history's Badger), slash-separated.
	Path string `json:"path" maxlen:"1024"`
	Mode uint32 `json:"mode,omitempty"` // a file's permission bits
	// Size and SHA256 are of the part's bytes as the archive holds them
	// (compressed, when it is), so that a check reads without
	// decompressing.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256" maxlen:"64"`
	// Compression is how a Badger part is compressed: "" none (format
	// 1), CompressZstd; RawSize is then its size decompressed.
	Compression string      `json:"compression,omitempty" maxlen:"16"`
	RawSize     int64       `json:"raw_size,omitempty"`
	Since       uint64      `json:"since,omitempty"`   // a Badger part: the first version it holds (0: all)
	Reach       uint64      `json:"version,omitempty"` // and the version it reaches
	Keys        int64       `json:"keys,omitempty"`    // the key versions it holds
	Hist        *Historical `json:"history,omitempty"`
	Recs        *Records    `json:"records,omitempty"`
}

// Historical is where a backup of the history reaches.
type Historical struct {
	LastSeq uint64 `json:"last_seq"`                     // the last sequence number given to an event
	Newest  string `json:"newest,omitempty" maxlen:"64"` // the newest event's time, RFC 3339 in the plant's zone
	Events  int64  `json:"events"`                       // event records in this part
}

// Records is where a backup of the records reaches.
type Records struct {
	Schema    int    `json:"schema"`                 // the schema version (recstore FORMAT.md)
	AuditSeq  uint64 `json:"audit_seq"`              // the audit chain's head: its last entry
	AuditHash string `json:"audit_hash" maxlen:"64"` //   and that entry's hash
}

// part returns the part named name, nil if there is none.
func (m *Manifest) part(name string) *Part {
	for i := range m.Parts {
		if m.Parts[i].Name == name {
			return &m.Parts[i]
		}
	}
	return nil
}

// The Badger parts' names.
const (
	HistoryPart = "history.badger"
	RecordsPart = "records.badger"
)

func decodeManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s does not decode: %w", ManifestName, err)
	}
	if m.Format > FormatVersion {
		return nil, fmt.Errorf("backup format version %d, written by %s; this build (%s) reads up to version %d: restore it with that release or a newer one", m.Format, m.Build, build(), FormatVersion)
	}
	if m.Format < 1 || m.ID == "" || (m.Kind != Full && m.Kind != Incremental) {
		return nil, fmt.Errorf("%s is not a twin backup manifest (format %d, id %q, kind %q)", ManifestName, m.Format, m.ID, m.Kind)
	}
	return &m, nil
}

// eachKV calls fn with every key version of a Badger backup stream
// (badger.DB.Backup's format: a little-endian uint64 length, then a
// protobuf KVList, repeated).
func eachKV(r io.Reader, fn func(*pb.KV) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf bytes.Buffer
	for {
		var sz uint64
		err := binary.Read(br, binary.LittleEndian, &sz)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("a Badger backup stream cut short: %w", err)
		}
		if sz > 1<<30 {
			return fmt.Errorf("a Badger backup stream with a list of %d bytes: not a backup, or damaged", sz)
		}
		// grown as the bytes come, not by the length read: a damaged
		// length does not allocate a gigabyte
		buf.Reset()
		if _, err := io.CopyN(&buf, br, int64(sz)); err != nil {
			return fmt.Errorf("a Badger backup stream cut short: %w", err)
		}
		var list pb.KVList
		if err := proto.Unmarshal(buf.Bytes(), &list); err != nil {
			return fmt.Errorf("a Badger backup list that does not decode: %w", err)
		}
		for _, kv := range list.Kv {
			if err := fn(kv); err != nil {
				return err
			}
		}
	}
}

// deleted says whether a key version of a backup stream is a deletion
// (Badger's bitDelete).
func deleted(kv *pb.KV) bool { return len(kv.Meta) > 0 && kv.Meta[0]&1 != 0 }

// historyFacts reads where a history backup stream reaches; prev is the
// previous backup's (an increment without appends keeps them).
func historyFacts(r io.Reader, loc *time.Location, prev *Historical) (*Historical, int64, error) {
	h := &Historical{}
	if prev != nil {
		h.LastSeq, h.Newest = prev.LastSeq, prev.Newest
	}
	var seqVer uint64
	newest := int64(-1 << 63)
	var keys int64
	err := eachKV(r, func(kv *pb.KV) error {
		keys++
		switch {
		case deleted(kv):
		case string(kv.Key) == "mseq" && len(kv.Value) == 8 && kv.Version >= seqVer:
			seqVer, h.LastSeq = kv.Version, binary.BigEndian.Uint64(kv.Value)
		case len(kv.Key) == 17 && kv.Key[0] == 'e':
			h.Events++
			newest = max(newest, int64(binary.BigEndian.Uint64(kv.Key[1:9])^(1<<63)))
		}
		return nil
	})
	if newest != -1<<63 {
		t := time.Unix(0, newest).In(loc)
		if old, err := time.Parse(time.RFC3339Nano, h.Newest); err != nil || t.After(old) {
			h.Newest = t.Format(time.RFC3339Nano)
		}
	}
	return h, keys, err
}

// recordFacts reads where a records backup stream reaches.
func recordFacts(r io.Reader, prev *Records) (*Records, int64, error) {
	rc := &Records{Schema: 1}
	if prev != nil {
		*rc = *prev
	}
	var keys int64
	var schemaVer uint64
	err := eachKV(r, func(kv *pb.KV) error {
		keys++
		k := string(kv.Key)
		switch {
		case deleted(kv):
		case k == "meta/schema" && kv.Version >= schemaVer:
			v, err := strconv.Atoi(strings.TrimSpace(string(kv.Value)))
			if err != nil {
				return fmt.Errorf("the records' schema version %q: %w", kv.Value, err)
			}
			schemaVer, rc.Schema = kv.Version, v
		case strings.HasPrefix(k, "aud/"):
			var e struct {
				Seq  uint64 `json:"seq"`
				Hash string `json:"hash"`
			}
			if err := json.Unmarshal(kv.Value, &e); err != nil {
				return fmt.Errorf("audit entry %s does not decode: %w", k, err)
			}
			if e.Seq >= rc.AuditSeq {
				rc.AuditSeq, rc.AuditHash = e.Seq, e.Hash
			}
		}
		return nil
	})
	return rc, keys, err
}
