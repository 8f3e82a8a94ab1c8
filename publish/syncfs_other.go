//go:build !linux

package publish

// syncFS is Linux-only; elsewhere syncTree fsyncs file by file.
func syncFS(string) (bool, error) { return false, nil }
