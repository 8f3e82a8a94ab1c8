//go:build !linux

package publish

import "os"

// syncFS is Linux-only; elsewhere syncTree fsyncs file by file.
func syncFS(string) (bool, error) { return false, nil }

// writeBehind is Linux-only (sync_file_range(2)); elsewhere Commit's sync
// writes everything.
type writeBehind struct{}

func newWriteBehind() *writeBehind { return &writeBehind{} }
func (*writeBehind) add(*os.File)  {}
func (*writeBehind) wait()         {}
