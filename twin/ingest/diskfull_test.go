package ingest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"twin/plant/event"
	"twin/twin/disk"
	"twin/twin/store"
)

// While the store's disk is full, ingest holds its batches (no ack, no
// error); when space comes back it writes them and acks; and Close does
// not hang on a disk that stays full, even with EmitBatch waiting for
// room in the full queue: what is held is failed instead.
func TestDiskFullHoldsThenWrites(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	g, err := disk.New(dir, disk.Options{Reserve: 100 << 20, Every: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	st, err := store.Open(filepath.Join(dir, "history"), store.Options{SnapshotEvery: -1, Room: g.Check})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Now().UnixNano()
	in := New(st, nil, Options{Space: g})
	ev := func(i int) []event.Event {
		return []event.Event{{Time: t0 + int64(i), Kind: event.Counter, Asset: "M1", Name: "good", Value: float64(i)}}
	}
	acked := make(chan error, 16384)
	in.EmitBatch(ev(0), func(err error) { acked <- err })
	if err := <-acked; err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 200<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); g.Check() == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the guard does not see the disk full")
		}
	}
	for i := 1; i <= 10; i++ {
		in.EmitBatch(ev(i), func(err error) { acked <- err })
	}
	for end := time.Now().Add(5 * time.Second); in.Stats().Held == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("ingest does not hold its batch while the disk is full")
		}
	}
	select {
	case err := <-acked:
		t.Fatalf("a batch was acked (%v) while the disk is full", err)
	default:
	}
	os.Remove(filler)
	for i := 1; i <= 10; i++ {
		select {
		case err := <-acked:
			if err != nil {
				t.Fatalf("batch acked with %v once the disk had room", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of 10 held batches written after the space came back", i-1)
		}
	}
	if s := in.Stats(); s.Failed != 0 || s.Stored != 11 {
		t.Errorf("stats %+v", s)
	}

	// full again, and the queue fills: Close must not wait for the disk
	if err := os.WriteFile(filler, make([]byte, 200<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); g.Check() == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the guard does not see the disk full again")
		}
	}
	const n = 10_000
	emitted := make(chan struct{})
	go func() {
		defer close(emitted)
		// more than the writer holds (up to 8,192 events merged into the
		// batch it holds) and the queue (1,024 batches) together: the last
		// EmitBatch waits
		for i := 100; i < 100+n; i++ {
			in.EmitBatch(ev(i), func(err error) { acked <- err })
		}
	}()
	for end := time.Now().Add(5 * time.Second); in.Stats().QueueFull == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the queue never filled")
		}
	}
	closed := make(chan struct{})
	go func() { in.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs while the disk is full")
	}
	<-emitted
	failed := 0
	for len(acked) > 0 {
		if <-acked != nil {
			failed++
		}
	}
	if failed != n {
		t.Errorf("%d of the %d batches emitted while the disk was full failed at Close, want all: nothing acknowledged that is not stored", failed, n)
	}
}
