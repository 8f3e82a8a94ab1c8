package ingest

import (
	"math"

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
	mask  uint64
	n     int
	big   map[keyHash]int64 // first lines beyond 2^32-1 (files of billions of lines)
	sink  uint64            // keeps touch's loads
}

func newKeySet(n int) *keySet {
	s := &keySet{}
	s.alloc(n)
	return s
}

// alloc makes room for n keys at a load of at most 3/4.
func (s *keySet) alloc(n int) {
	size := 1024
	for size*3/4 < n {
		size *= 2
	}
	s.slots = make([]keySlot, size)
	s.mask = uint64(size - 1)
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
	if n*4/3 <= len(s.slots) || n > 1<<28 {
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
		i := e.lo & s.mask
		for s.slots[i].lo != 0 {
			i = (i + 1) & s.mask
		}
		s.slots[i] = e
	}
}

// claim records key h as first seen at line, or returns the line it was
// first seen at.
func (s *keySet) claim(h keyHash, line int64) (first int64, dup bool) {
	lo, chk := norm(h)
	i := lo & s.mask
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
		i = (i + 1) & s.mask
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
	i := lo & s.mask
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
		i = (i + 1) & s.mask
	}
	// Backward-shift deletion (linear probing without tombstones).
	s.n--
	j := i
	for {
		s.slots[i] = keySlot{}
		for {
			j = (j + 1) & s.mask
			e := s.slots[j]
			if e.lo == 0 {
				return
			}
			home := e.lo & s.mask
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
			x += s.slots[lo&s.mask].lo
		}
	}
	s.sink += x
}
