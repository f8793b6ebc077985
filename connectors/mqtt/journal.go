package mqtt

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// A journal remembers, for each packet identifier of the client's
// persistent session, the receive time the client gave the last message
// that came with that identifier and took its time from the receive
// clock (a reading without a timestamp), with a hash of the message's
// topic and payload. A message the broker sends again (DUP set, the same
// packet identifier: MQTT 3.1.1 §4.4, MQTT-2.3.1-3; MQTT 5 §4.4 the
// same) whose topic and payload hash to what the journal holds for its
// identifier takes that time again, so that its events are the ones the
// history already holds and the store does not keep them twice
// (store.Append's repeats).
//
// The file is a table of 65,536 slots of 32 bytes, one per packet
// identifier (the offset is the identifier × 32, so a slot never
// straddles a page): the hash (8 bytes), the receive time (int64 Unix
// ns, big-endian), a CRC-32C of those 16 bytes, zeros. A slot that does
// not check out (never written, torn) is no record. A slot is written
// with one pwrite before the message's events are handed on: it is in
// the kernel when the twin is killed, so a crash keeps it; it is not
// fsynced for each message (the client's one delivery goroutine would
// wait for the disk for every message), so a power loss in the moments
// after a message arrived can lose its record, and that message's
// readings are then stored twice.
//
// A record is only the last one for its identifier, and only a message
// with DUP set is looked up: an identifier the broker gives a new
// message (after it had our acknowledgement of the one before) comes
// without DUP and its record replaces the old one. One case is wrong and
// cannot be told apart: an identifier reused for a message with the same
// topic and payload whose first delivery the crash swallowed (never
// read) takes the older message's time and is taken for it (a repeated
// value, on the same topic, 65,535 messages later at the earliest with
// mosquitto, which counts identifiers up per client).
type journal struct {
	f    *os.File
	path string
}

const (
	journalSlot  = 32
	journalSlots = 1 << 16
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// journalName is the journal's file name for a broker and client id: a
// session is both (the same client id on another broker is another
// session, whose packet identifiers mean something else).
func journalName(url, clientID string) string {
	h := sha256.Sum256([]byte(url + "\x00" + clientID))
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, clientID)
	if len(safe) > 64 {
		safe = safe[:64]
	}
	return safe + "-" + hex.EncodeToString(h[:4]) + ".session"
}

// openJournal opens (or creates) the journal in dir for a broker and
// client id.
func openJournal(dir, url, clientID string) (*journal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("mqtt: session journal: %w", err)
	}
	path := filepath.Join(dir, journalName(url, clientID))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("mqtt: session journal: %w", err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != journalSlot*journalSlots {
		// a new journal (sparse: 2 MiB of zeros, no record); a file of
		// another size is not one of ours: no record in it is trusted
		if err == nil {
			err = f.Truncate(0)
		}
		if err == nil {
			err = f.Truncate(journalSlot * journalSlots)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("mqtt: session journal %s: %w", path, err)
		}
	}
	return &journal{f: f, path: path}, nil
}

// messageHash identifies a message's content: its topic and payload.
func messageHash(topic string, payload []byte) [8]byte {
	h := sha256.New()
	io.WriteString(h, topic)
	h.Write([]byte{0})
	h.Write(payload)
	var out [8]byte
	copy(out[:], h.Sum(nil))
	return out
}

// lookup returns the receive time recorded for packet identifier id if
// the record there is of a message with hash h.
func (j *journal) lookup(id uint16, h [8]byte) (int64, bool) {
	var b [journalSlot]byte
	if _, err := j.f.ReadAt(b[:], int64(id)*journalSlot); err != nil {
		return 0, false
	}
	if binary.BigEndian.Uint32(b[16:20]) != crc32.Checksum(b[:16], crcTable) || [8]byte(b[:8]) != h {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b[8:16])), true
}

// record notes that the message with packet identifier id and hash h
// was given receive time t.
func (j *journal) record(id uint16, h [8]byte, t int64) error {
	var b [journalSlot]byte
	copy(b[:8], h[:])
	binary.BigEndian.PutUint64(b[8:16], uint64(t))
	binary.BigEndian.PutUint32(b[16:20], crc32.Checksum(b[:16], crcTable))
	if _, err := j.f.WriteAt(b[:], int64(id)*journalSlot); err != nil {
		return fmt.Errorf("mqtt: session journal %s: %w", j.path, err)
	}
	return nil
}

// Close syncs and closes the journal.
func (j *journal) Close() error {
	return errors.Join(j.f.Sync(), j.f.Close())
}
