//go:build linux && cgo

package transform

/*
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

// Leaves n bytes of touched, freed blocks inside the C heap below one block
// still held, which glibc's free cannot give back (it shrinks only a heap's
// top); returns the held block. One C call: one thread, one arena.
static void *gplens_heap_hole(size_t n) {
	size_t block = 64 << 10, k = n / block;
	void **ps = malloc(k * sizeof(void *));
	for (size_t i = 0; i < k; i++) {
		ps[i] = malloc(block);
		if (ps[i]) memset(ps[i], 1, block);
	}
	void *pin = malloc(block);
	for (size_t i = 0; i < k; i++) free(ps[i]);
	free(ps);
	return pin;
}
*/
import "C"

import "unsafe"

// trimCHeap hands the C heap's free pages back to the OS (glibc's
// malloc_trim). DuckDB frees what a model's query held, but glibc keeps
// freed blocks inside its arenas, in the process's RSS beside what the
// next model allocates: England at memory_limit 3GB, the peak inside
// disclosure.indicator_values 3.96-3.98 GB without, 3.55-3.59 GB with.
func trimCHeap() { C.malloc_trim(0) }

// cHeapHole leaves n bytes of freed memory inside the C heap that only a
// trim returns, and the release of the block that holds it there (tests).
func cHeapHole(n int) (release func()) {
	pin := C.gplens_heap_hole(C.size_t(n))
	return func() { C.free(unsafe.Pointer(pin)) }
}
