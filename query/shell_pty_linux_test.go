package query

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair, so the interactive shell can be
// driven as if a person were typing.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("pty number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open pty slave: %v", err)
	}
	return m, s
}

// screen collects what the shell writes to the terminal.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor waits until the screen shows want (after the first from bytes).
func (s *screen) waitFor(t *testing.T, from int, want string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if i := strings.Index(s.String()[from:], want); i >= 0 {
			return from + i + len(want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("terminal never showed %q; it shows:\n%s", want, s.String()[from:])
	return 0
}

func TestShellTerminal(t *testing.T) {
	hist := filepath.Join(t.TempDir(), ".gplens_history")
	scr, typeKeys, done := startShell(t, 80, ShellOptions{HistoryFile: hist})
	pos := scr.waitFor(t, 0, "gplens> ")
	type step struct{ typed, want string }
	for _, s := range []step{
		{"SELECT 40 + 2\r", "SELECT 40 + 2"}, // continues until ';'
		{"AS answer;\r", "42"},               // then runs
		{"half a statement\x03", "^C"},       // Ctrl-C clears the line
		{"SELECT 'after' AS y;\r", "after"},  // and the next statement is clean
		{"SELECT nope;\r", "hint:"},          // errors print, the shell goes on
		{".mode csv\r", ".mode csv"},         // dot commands
		{"SELECT 7 AS seven;\r", "seven\r"},  // in the new mode
		{"\x1b[A\r", "seven\r"},              // up-arrow recalls it from history
	} {
		typeKeys(s.typed)
		pos = scr.waitFor(t, pos, s.want)
		// Type on only at a prompt: while a statement runs the terminal is
		// in normal mode, where the line discipline would eat a Ctrl-C.
		pos = scr.waitFor(t, pos, "> ")
	}
	if n := strings.Count(scr.String(), "Error: statement"); n != 1 {
		t.Errorf("%d errors, want 1 (SELECT nope):\n%s", n, scr.String())
	}
	if strings.Contains(scr.String(), "half a statementSELECT") {
		t.Errorf("Ctrl-C left the line in place:\n%s", scr.String())
	}
	typeKeys(".quit\r")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("interactive shell returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shell did not quit")
	}
	data, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	// History holds whole statements: the two-line one is one entry.
	for _, want := range []string{"SELECT 40 + 2 AS answer;", "SELECT 7 AS seven;", ".mode csv", ".quit"} {
		if !strings.Contains(string(data), want+"\n") {
			t.Errorf("history file lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), "\nAS answer;\n") {
		t.Errorf("history keeps a statement's lines apart:\n%s", data)
	}
}

// startShell runs the interactive shell on a pseudo-terminal of the given
// width and returns what it shows, a way to type, and the shell's result.
func startShell(t *testing.T, cols uint16, opts ShellOptions) (*screen, func(string), <-chan error) {
	t.Helper()
	master, slave := openPTY(t)
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: cols}); err != nil {
		t.Skipf("set pty size: %v", err)
	}
	db := openDB(t)
	scr := &screen{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			scr.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	done := make(chan error, 1)
	go func() {
		done <- Shell(context.Background(), db, slave, slave, opts)
		slave.Close()
	}()
	typeKeys := func(s string) {
		if _, err := master.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	return scr, typeKeys, done
}

// Ctrl-C while a statement runs cancels that statement, and the session
// (its connection, settings and temporary tables) carries on.
func TestShellCtrlCCancelsStatement(t *testing.T) {
	scr, typeKeys, done := startShell(t, 120, ShellOptions{})
	pos := scr.waitFor(t, 0, "gplens> ")
	typeKeys("CREATE TEMP TABLE kept AS SELECT 'still here' AS s;\r")
	pos = scr.waitFor(t, pos, "gplens> ")
	// Minutes of work, unless cancelled.
	typeKeys("SELECT count(*) FROM range(100000000000) t(x) WHERE hash(x) % 7 = 3;\r")
	pos = scr.waitFor(t, pos, "= 3;")
	time.Sleep(500 * time.Millisecond)
	typeKeys("\x03")
	pos = scr.waitFor(t, pos, "cancelled")
	pos = scr.waitFor(t, pos, "gplens> ")
	typeKeys("SELECT s FROM kept;\r")
	scr.waitFor(t, pos, "still here")
	typeKeys(".quit\r")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shell returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shell did not quit")
	}
}

// The line editor uses the terminal's width: a 150-character line in a
// 200-column terminal is not wrapped at 80.
func TestShellTerminalWidth(t *testing.T) {
	for _, tc := range []struct {
		cols    uint16
		wrapped bool
	}{{200, false}, {80, true}} {
		scr, typeKeys, done := startShell(t, tc.cols, ShellOptions{})
		pos := scr.waitFor(t, 0, "gplens> ")
		long := "SELECT '" + strings.Repeat("x", 130) + "' AS wide;"
		typeKeys(long)
		end := scr.waitFor(t, pos, "AS wide;")
		echo := scr.String()[pos:end]
		if got := strings.Contains(echo, "\r\n") || strings.Contains(echo, "\n"); got != tc.wrapped {
			t.Errorf("%d columns: wrapped = %v, want %v; echo %q", tc.cols, got, tc.wrapped, echo)
		}
		typeKeys("\r.quit\r")
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("shell did not quit")
		}
	}
}
