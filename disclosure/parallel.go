package disclosure

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// busy counts the goroutines deciding periods (suppressChunk's workers)
// and forEach's helpers, so that work within a period takes only the cores
// no other period is using: a new month's build decides one period and
// spreads it over every core, a full build decides a period per core and
// adds nothing (helpers beside them only cost memory and the collector's
// time: a full England build's disclosure took 226 s that way against
// 183 s).
var busy atomic.Int64

// takeCore claims a core for a helper if one is free.
func takeCore() bool {
	if busy.Add(1) <= int64(runtime.GOMAXPROCS(0)) {
		return true
	}
	busy.Add(-1)
	return false
}

// forEach runs f(0) ... f(n-1) on the calling goroutine and on a helper for
// each other free core, and returns when all have run. Each f writes only
// its own results, so what the callers build from them, in index order
// afterwards, never depends on the schedule.
func forEach(n int, f func(i int)) {
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			f(i)
		}
	}
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) - 1 {
		if !takeCore() {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer busy.Add(-1)
			work()
		}()
	}
	work()
	wg.Wait()
}
