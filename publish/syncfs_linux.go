package publish

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS flushes the file system holding dir with one syncfs(2).
func syncFS(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return true, err
	}
	defer f.Close()
	return true, unix.Syncfs(int(f.Fd()))
}
