package ingest

// SetCrashHook lets the crash tests copy the lake at each commit step.
func SetCrashHook(f func(point string)) { crashHook = f }

// WriteManifest replaces the manifest, to damage a lake on purpose.
func WriteManifest(lake string, rows []Entry) error { return writeManifest(lake, rows) }

// Sequential makes o use the one-goroutine reader, the reference the
// parallel pipeline is compared with.
func Sequential(o Options) Options { o.sequential = true; return o }

// BatchBytes sets the pipeline's batch size, so small files still cross
// many batch boundaries in tests.
func BatchBytes(o Options, n int) Options { o.batchBytes = n; return o }
