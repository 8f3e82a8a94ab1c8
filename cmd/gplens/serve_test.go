package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/gplens/gplens/server"
	"github.com/gplens/gplens/workspace"
)

// TestServeFlags checks that every flag and the environment variable the
// README's serve table names reach the server: each case fails in a way
// only that setting can cause, before anything is served.
func TestServeFlags(t *testing.T) {
	ws := t.TempDir()
	if code, _, errs := gplens(t, "init", ws); code != 0 {
		t.Fatalf("init: %s", errs)
	}
	toml := "\n[[serve.tokens]]\nname = \"t\"\ntoken = \"0123456789abcdef0123\"\n"
	f, err := os.OpenFile(filepath.Join(ws, "gplens.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(toml)
	f.Close()
	busy, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())
	cases := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"non-loopback without TLS refused", "", []string{"--addr", "0.0.0.0:0"}, "--insecure"},
		{"env address used", "0.0.0.0:0", nil, "0.0.0.0:0 is reachable"},
		{"flag beats env", "0.0.0.0:0", []string{"--addr", "127.0.0.1:" + busyPort, "--insecure"}, "listen 127.0.0.1:" + busyPort},
		{"--insecure allows it", "", []string{"--addr", "0.0.0.0:" + busyPort, "--insecure"}, "listen 0.0.0.0:" + busyPort},
		{"--query-timeout parsed", "", []string{"--query-timeout", "soon"}, `--query-timeout "soon"`},
		{"--tls-cert needs --tls-key", "", []string{"--tls-cert", "c.pem"}, "set both tls_cert and tls_key"},
		{"--tls-cert and --tls-key loaded", "", []string{"--tls-cert", "nope.pem", "--tls-key", "nope.key"}, "load TLS key pair"},
		{"--memory-limit read", "", []string{"--memory-limit", "lots"}, `memory_limit "lots"`},
		{"--threads checked", "", []string{"--threads", "-1"}, "--threads -1"},
		{"--token-file read", "", []string{"--token-file", filepath.Join(ws, "missing")}, "token file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(serveAddrEnv, tc.env)
			args := append([]string{"--workspace", ws, "serve"}, tc.args...)
			code, out, errs := gplens(t, args...)
			if code == 0 || !strings.Contains(out+errs, tc.want) {
				t.Errorf("gplens %v = %d\n%s%s\nwant an error containing %q", args, code, out, errs, tc.want)
			}
		})
	}
}

// TestInitExampleTokenServes: the commented example token in the
// gplens.toml that init writes, once uncommented, is one serve accepts.
func TestInitExampleTokenServes(t *testing.T) {
	var lines []string
	in := false
	for _, l := range strings.Split(workspace.Template(), "\n") {
		s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "#"))
		if s == "[[serve.tokens]]" {
			in = true
			continue
		}
		if in && (s == "" || strings.HasPrefix(s, "[")) {
			break
		}
		if in && (strings.HasPrefix(s, "name") || strings.HasPrefix(s, "token")) {
			lines = append(lines, s)
		}
	}
	var tok struct{ Name, Token string }
	if _, err := toml.Decode(strings.Join(lines, "\n"), &tok); err != nil || tok.Token == "" {
		t.Fatalf("example token in the template: %v %+v (%q)", err, tok, lines)
	}
	if _, err := server.Scopes([]server.Token{{Name: tok.Name, Token: tok.Token}}, ""); err != nil {
		t.Errorf("example token refused: %v", err)
	}
}
