package ingest

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refSet is what keySet must do: a key's first line, forgotten only by a
// release at that line.
type refSet map[keyHash]int64

func (r refSet) claim(h keyHash, line int64) (int64, bool) {
	if first, ok := r[h]; ok {
		return first, true
	}
	r[h] = line
	return 0, false
}

func (r refSet) release(h keyHash, line int64) {
	if first, ok := r[h]; ok && first == line {
		delete(r, h)
	}
}

// checkSet claims and releases keys in s and a reference together and fails
// at the first answer that differs; after, every key the reference holds
// must still be found at its line (probes survive the deletions).
func checkSet(t *testing.T, s *keySet, keys []keyHash, ops int, rng *rand.Rand, lineBase int64) {
	t.Helper()
	ref := refSet{}
	line := lineBase
	claimed := map[keyHash]int64{} // a line each key was claimed at, for releases
	for op := 0; op < ops; op++ {
		h := keys[rng.IntN(len(keys))]
		if rng.IntN(4) == 0 {
			// release at the line it was claimed at, or at a wrong one
			l, ok := claimed[h]
			if !ok || rng.IntN(5) == 0 {
				l = line + 1
			}
			s.release(h, l)
			ref.release(h, l)
			continue
		}
		line++
		got, gotDup := s.claim(h, line)
		want, wantDup := ref.claim(h, line)
		if got != want || gotDup != wantDup {
			t.Fatalf("op %d: claim(%x, %d) = %d, %v; want %d, %v", op, h, line, got, gotDup, want, wantDup)
		}
		if !wantDup {
			claimed[h] = line
		}
	}
	if s.n != len(ref) {
		t.Fatalf("set holds %d keys, want %d", s.n, len(ref))
	}
	for h, first := range ref {
		if got, dup := s.claim(h, math.MaxInt64-1); !dup || got != first {
			t.Fatalf("key %x: claim says %d, %v; want its first line %d", h, got, dup, first)
		}
	}
}

func TestKeySetMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name  string
		keys  func(i int) keyHash
		nkeys int
		start int
		line  int64
	}{
		// random hashes, the set growing from its smallest size by claims
		{"random", func(int) keyHash { return keyHash{rng.Uint64(), rng.Uint64()} }, 20000, 0, 0},
		// every home in the last slots: probes wrap past the table's end,
		// and the backward shift must move keys across it
		{"wrapping", func(i int) keyHash { return keyHash{math.MaxUint64 - uint64(i%40), uint64(i)} }, 600, 0, 0},
		// one home for all, told apart only by the check bits
		{"one home", func(i int) keyHash { return keyHash{12345, uint64(i)} }, 500, 0, 0},
		// lo 0 (an empty slot's mark) is stored as 1: such keys are kept,
		// and told from lo 1's by their check bits
		{"zero lo", func(i int) keyHash { return keyHash{uint64(i % 2), uint64(i%2<<20 + i/2)} }, 400, 0, 0},
		// lines beyond 2^32-1 kept aside
		{"big lines", func(int) keyHash { return keyHash{rng.Uint64(), rng.Uint64()} }, 3000, 0, math.MaxUint32 - 1000},
		// reserved for the file's estimate first (resize), at sizes that
		// are not powers of two
		{"reserved", func(int) keyHash { return keyHash{rng.Uint64(), rng.Uint64()} }, 20000, 7777, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := make([]keyHash, tc.nkeys)
			for i := range keys {
				keys[i] = tc.keys(i)
			}
			s := newKeySet(0)
			if tc.start > 0 {
				s.reserve(tc.start)
			}
			checkSet(t, s, keys, 10*tc.nkeys, rng, tc.line)
			if load := float64(s.n) / float64(len(s.slots)); load > 0.75 {
				t.Errorf("load %.2f above 3/4", load)
			}
		})
	}
}

func TestKeySetSize(t *testing.T) {
	for _, n := range []int{0, 1, 767, 768, 769, 1_680_000, 5_000_000} {
		s := newKeySet(n)
		if len(s.slots)*3 < n*4 {
			t.Errorf("newKeySet(%d): %d slots, under n/0.75", n, len(s.slots))
		}
		if n > 1024 && len(s.slots) > n*4/3+2 {
			t.Errorf("newKeySet(%d): %d slots, more than n/0.75 needs", n, len(s.slots))
		}
		// every home lies in the table
		for _, lo := range []uint64{1, 1 << 63, math.MaxUint64} {
			if h := s.home(lo); h >= uint64(len(s.slots)) {
				t.Errorf("home(%x) = %d with %d slots", lo, h, len(s.slots))
			}
		}
	}
}
