// Package ducktest holds a DuckDB file open in another process, as another
// gplens command would (DuckDB locks the file per process), for tests of
// what that lock does.
package ducktest

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/gplens/gplens/duck"
)

const (
	envPath  = "GPLENS_TEST_HOLD"
	envWrite = "GPLENS_TEST_HOLD_WRITE"
)

// Hold runs the test binary again as a child whose only test is helper (a
// test function that calls Helper), holding path open — read-only, or for
// writing inside an open transaction as a build does — until the test ends.
func Hold(t testing.TB, helper, path string, write bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$")
	cmd.Env = append(os.Environ(), envPath+"="+path, envWrite+"="+strconv.FormatBool(write))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	held := make(chan bool, 1)
	var out bytes.Buffer // written by the reader; read once it has said false
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if sc.Text() == "held" {
				select {
				case held <- true:
				default:
				}
			}
		}
		select {
		case held <- false:
		default:
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		<-done
		_ = cmd.Wait()
	})
	select {
	case ok := <-held:
		if !ok { // the child ended: out is complete
			t.Fatalf("helper %s did not open %s:\n%s%s", helper, path, out.String(), stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("helper %s did not open %s within 30 s", helper, path)
	}
}

// Helper is the body of the test function Hold runs in the child; outside
// a child it skips.
func Helper(t *testing.T) {
	path := os.Getenv(envPath)
	if path == "" {
		t.Skip("helper process only (ducktest.Hold)")
	}
	write := os.Getenv(envWrite) == "true"
	db, err := duck.Open(context.Background(), path, duck.Options{ReadOnly: !write})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := "SELECT count(*) FROM duckdb_tables()"
	if write {
		q = "BEGIN TRANSACTION; CREATE TABLE half_built AS SELECT 1 AS x"
	}
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("held\n")
	_, _ = io.Copy(io.Discard, os.Stdin)
}
