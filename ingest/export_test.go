package ingest

// SetCrashHook lets the crash tests copy the lake at each commit step.
func SetCrashHook(f func(point string)) { crashHook = f }

// WriteManifest replaces the manifest, to damage a lake on purpose.
func WriteManifest(lake string, rows []Entry) error { return writeManifest(lake, rows) }
