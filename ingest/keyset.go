package ingest

import (
	"math"
	"math/bits"

	"github.com/zeebo/xxh3"
)

// keyHash is a unique key's 128-bit xxh3 fingerprint: lo picks the slot,
// and 32 bits of hi are checked on a hit, so two different keys are taken
// for one only if 96 bits collide (about 1 in 10^15 for 10 million keys).
type keyHash struct{ lo, hi uint64 }

func hashKey(b []byte) keyHash { h := xxh3.Hash128(b); return keyHash{h.Lo, h.Hi} }

func hashKeyString(s string) keyHash { h := xxh3.HashString128(s); return keyHash{h.Lo, h.Hi} }

// keySlot is 16 bytes, so a lookup touches one cache line.
type keySlot struct {
	lo   uint64 // 0: empty
	chk  uint32
	line uint32 // first line seen; bigLine: in keySet.big
}

const bigLine = math.MaxUint32

// touchAhead is how many keys ahead of its claims the merge loads.
const touchAhead = 256

// keySet is the duplicate-key set: open addressing with linear probing, one
// probe sequence for find-or-insert (a Go map needed a lookup and an insert,
// and was 29% of ingest's CPU on record-level referrals).
type keySet struct {
	slots []keySlot
	size  uint64 // len(slots)
	n     int
	big   map[keyHash]int64 // first lines beyond 2^32-1 (files of billions of lines)
	sink  uint64            // keeps touch's loads
}

func newKeySet(n int) *keySet {
	s := &keySet{}
	s.alloc(n)
	return s
}

// alloc makes room for n keys at a load of at most 3/4, in a table of just
// that size: a key's home slot is its hash scaled to the table (home), not
// masked, so the table need not be a power of two (a QOF year's 1.68 M keys
// took 4 M slots, 64 MiB, rounded up; now 2.3 M, 36 MiB, which the file's
// ingest clears or faults in page by page).
func (s *keySet) alloc(n int) {
	size := max(1024, (n*4+2)/3)
	s.slots = make([]keySlot, size)
	s.size = uint64(size)
}

// home is the slot a probe for lo starts at: lo scaled to [0, size)
// (Lemire's multiply-shift; lo is a hash, so uniform over its range).
func (s *keySet) home(lo uint64) uint64 {
	hi, _ := bits.Mul64(lo, s.size)
	return hi
}

// next is the slot after i, wrapping at the end.
func (s *keySet) next(i uint64) uint64 {
	if i++; i == s.size {
		return 0
	}
	return i
}

func norm(h keyHash) (uint64, uint32) {
	lo := h.lo
	if lo == 0 {
		lo = 1 // 0 marks an empty slot
	}
	return lo, uint32(h.hi)
}

// reserve grows the set, once, to hold n keys without doubling as it fills
// (doubling briefly holds the old and the new table).
func (s *keySet) reserve(n int) {
	if (n*4+2)/3 <= len(s.slots) || n > 1<<28 {
		return
	}
	old := s.slots
	s.alloc(n)
	s.rehash(old)
}

func (s *keySet) rehash(old []keySlot) {
	for _, e := range old {
		if e.lo == 0 {
			continue
		}
		i := s.home(e.lo)
		for s.slots[i].lo != 0 {
			i = s.next(i)
		}
		s.slots[i] = e
	}
}

// claim records key h as first seen at line, or returns the line it was
// first seen at.
func (s *keySet) claim(h keyHash, line int64) (first int64, dup bool) {
	lo, chk := norm(h)
	i := s.home(lo)
	for {
		e := &s.slots[i]
		if e.lo == 0 {
			break
		}
		if e.lo == lo && e.chk == chk {
			if e.line == bigLine {
				return s.big[h], true
			}
			return int64(e.line), true
		}
		i = s.next(i)
	}
	l := uint32(bigLine)
	if line < bigLine {
		l = uint32(line)
	} else {
		if s.big == nil {
			s.big = map[keyHash]int64{}
		}
		s.big[h] = line
	}
	s.slots[i] = keySlot{lo: lo, chk: chk, line: l}
	s.n++
	if s.n*4 > len(s.slots)*3 {
		old := s.slots
		s.alloc(s.n * 2)
		s.rehash(old)
	}
	return 0, false
}

// release forgets h if it was claimed at line (a record rejected after its
// key was claimed), closing the gap so later probes still find their keys.
func (s *keySet) release(h keyHash, line int64) {
	lo, chk := norm(h)
	i := s.home(lo)
	for {
		e := s.slots[i]
		if e.lo == 0 {
			return
		}
		if e.lo == lo && e.chk == chk {
			first := int64(e.line)
			if e.line == bigLine {
				first = s.big[h]
			}
			if first != line {
				return
			}
			delete(s.big, h)
			break
		}
		i = s.next(i)
	}
	// Backward-shift deletion (linear probing without tombstones).
	s.n--
	j := i
	for {
		s.slots[i] = keySlot{}
		for {
			j = s.next(j)
			e := s.slots[j]
			if e.lo == 0 {
				return
			}
			home := s.home(e.lo)
			// Move e into the gap at i unless its home lies cyclically in (i, j].
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				s.slots[i] = e
				i = j
				break
			}
		}
	}
}

// touch loads the slots of the next keys before they are claimed one by
// one: the loads are independent, so the CPU overlaps their cache misses
// instead of waiting for each in turn (the table is far bigger than the
// caches; this halves the cost of claiming on a big file). The merge
// touches touchAhead keys ahead of the one it claims, not a whole batch:
// a batch's few thousand slots lie on as many pages, more than the TLB
// holds, so claims a batch later missed again.
func (s *keySet) touch(evs []event) {
	var x uint64
	for i := range evs {
		if evs[i].kind == evRow {
			lo, _ := norm(evs[i].key)
			x += s.slots[s.home(lo)].lo
		}
	}
	s.sink += x
}
