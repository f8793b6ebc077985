package disk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// smallDisk mounts a tmpfs of size MiB for the test.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file of n MiB into dir.
func fill(t *testing.T, dir string, n int) string {
	t.Helper()
	f := filepath.Join(dir, fmt.Sprint("filler-", n))
	if err := os.WriteFile(f, make([]byte, n<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// On a 64 MiB disk with a 16 MiB reserve (resuming at 20): writes go
// ahead, are refused with a FullError naming the free space once 50 MiB
// are taken, a waiter is woken when the space comes back, and an ENOSPC
// from a write makes the disk full at once.
func TestGuard(t *testing.T) {
	dir := smallDisk(t, 64)
	g, err := New(dir, Options{Reserve: 16 << 20, Every: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.Check(); err != nil {
		t.Fatalf("an empty disk: %v", err)
	}
	big := fill(t, dir, 50)
	// Check reads the disk again once Every has passed since the last
	for end := time.Now().Add(5 * time.Second); err == nil && time.Now().Before(end); {
		if err = g.Check(); err == nil {
			time.Sleep(time.Millisecond)
		}
	}
	var fe *FullError
	if !errors.Is(err, ErrFull) || !errors.As(err, &fe) || fe.Free >= 16<<20 || fe.Reserve != 16<<20 {
		t.Fatalf("a disk with 14 MiB free: %v", err)
	}
	if s := g.Stats(); !s.Full || s.Since.IsZero() || s.Refused == 0 || s.Episodes != 1 {
		t.Errorf("stats %+v", s)
	}
	woken := make(chan error, 1)
	go func() { woken <- g.Wait(context.Background()) }()
	if err := g.Check(); err == nil {
		t.Fatal("the disk has room again before anything was freed")
	}
	select {
	case err := <-woken:
		t.Fatalf("Wait returned while the disk is full: %v", err)
	default:
	}
	os.Remove(big)
	select {
	case err := <-woken:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return once the space came back")
	}
	if err := g.Check(); err != nil {
		t.Errorf("after the space came back: %v", err)
	}
	if !g.Failed(fmt.Errorf("write: %w", syscall.ENOSPC)) || g.Failed(errors.New("another error")) {
		t.Error("Failed does not tell ENOSPC from another error")
	}
	if s := g.Stats(); !s.Full || s.Episodes != 2 {
		t.Errorf("an ENOSPC did not make the disk full: %+v", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := g.Wait(ctx); err != nil { // statfs says there is room: the next reading clears it
		t.Errorf("after an ENOSPC with room on the disk: %v", err)
	}
}
