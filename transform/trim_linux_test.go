//go:build linux && cgo

package transform

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// rss is the process's resident set from /proc/self/statm, in bytes.
func rss(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

// TestTrimCHeap: memory freed inside the C heap stays resident until
// trimCHeap gives it back.
func TestTrimCHeap(t *testing.T) {
	const n = 256 << 20
	before := rss(t)
	release := cHeapHole(n)
	defer release()
	held := rss(t)
	if held-before < n/2 {
		t.Fatalf("RSS %d -> %d MiB after leaving %d MiB freed in the C heap: the allocator gave it back by itself", before>>20, held>>20, n>>20)
	}
	trimCHeap()
	if after := rss(t); held-after < n/2 {
		t.Errorf("RSS %d -> %d MiB after trimCHeap; want about %d MiB less", held>>20, after>>20, n>>20)
	}
}
