package reference

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

// TestOneCopy: the built-in plant decodes, and testdata/plants/motor.yaml,
// which the tests and the scenario files name, is a link to this very
// file, not a second copy that could drift.
func TestOneCopy(t *testing.T) {
	p, err := Plant()
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "qijiang-motor" || len(p.Units) < 10 || p.File != File {
		t.Fatalf("the reference plant: %s, %d units, file %s", p.ID, len(p.Units), p.File)
	}
	q, _ := Plant()
	if q == p || q.Units[0] == p.Units[0] {
		t.Fatal("Plant returned the same plant twice: callers change theirs")
	}
	const link = "../../testdata/plants/motor.yaml"
	fi, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s is a file of its own (%v): make it a link to plant/reference/motor.yaml", link, fi.Mode())
	}
	if b, err := os.ReadFile(link); err != nil || !bytes.Equal(b, Source) {
		t.Fatalf("%s does not read as the embedded plant: %v", link, err)
	}
}

func ExamplePlant() {
	p, err := Plant()
	if err != nil {
		panic(err)
	}
	fmt.Println(p.ID, p.Location)
	// Output: qijiang-motor Asia/Shanghai
}
