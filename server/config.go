package server

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/gplens/gplens/snapshot"
)

// DefaultAddr is where `gplens serve` listens unless told otherwise.
const DefaultAddr = "127.0.0.1:31337"

// Token is one client credential. A token with ICB or SubICB set sees only
// that area's rows (see README-server.md, "Row-level scoping").
type Token struct {
	Name   string `toml:"name"`
	Token  string `toml:"token"`
	ICB    string `toml:"icb"`     // ICB code, e.g. "QWE"; empty: not scoped
	SubICB string `toml:"sub_icb"` // sub-ICB code; empty: not scoped
	origin string // where the token was read, for error messages
}

// Config configures the Flight SQL server.
type Config struct {
	Addr      string  // listen address; "" means DefaultAddr
	Workspace string  // workspace folder whose published/ snapshots are served
	Tokens    []Token // from gplens.toml
	TokenFile string  // optional file of more tokens, one per line: name token [icb=CODE|sub_icb=CODE]
	TLSCert   string  // PEM certificate; with TLSKey turns TLS on
	TLSKey    string
	// QueryTimeout bounds a query from execution to the end of its stream;
	// 0 means 5 minutes.
	QueryTimeout time.Duration
	MemoryLimit  string // DuckDB memory_limit per open snapshot, e.g. "2GB"
	Threads      int    // DuckDB threads; 0 means DuckDB's default
	// PollInterval for CURRENT; 0 means one second.
	PollInterval time.Duration
	// MaxPending caps executed results waiting for their DoGet; 0 means 64.
	MaxPending int
	Version    string // reported in SqlInfo; "" means "dev"
	Logger     *slog.Logger
	// Limits are the per-token quotas and process-wide bounds.
	Limits Limits
	// Insecure allows a non-loopback Addr without TLS.
	Insecure bool
	// Clock is the time source for expiry; nil means time.Now.
	Clock func() time.Time
}

// codeRE is an ODS area code as the warehouse stores it: upper case.
var codeRE = regexp.MustCompile(`^[A-Z0-9]{3,9}$`)

// tokens merges Config.Tokens and the token file and checks them.
func (c Config) tokens() ([]Token, error) {
	toks := append([]Token(nil), c.Tokens...)
	if c.TokenFile != "" {
		more, err := readTokenFile(c.TokenFile)
		if err != nil {
			return nil, err
		}
		toks = append(toks, more...)
	}
	if len(toks) == 0 {
		return nil, errors.New("no tokens configured: add [[serve.tokens]] to gplens.toml or set token_file")
	}
	var errs []error
	seen, seenName := map[string]bool{}, map[string]bool{}
	for i, t := range toks {
		what := fmt.Sprintf("gplens.toml [[serve.tokens]] entry %d (%q)", i+1, t.Name)
		if t.origin != "" {
			what = fmt.Sprintf("%s (%q)", t.origin, t.Name)
		}
		if t.Name == "" {
			errs = append(errs, fmt.Errorf("%s: name is empty", what))
		}
		if len(t.Token) < 16 {
			errs = append(errs, fmt.Errorf("%s: token shorter than 16 characters", what))
		}
		if seen[t.Token] {
			errs = append(errs, fmt.Errorf("%s: token value used twice", what))
		}
		seen[t.Token] = true
		// Names own tickets and prepared statements, so they must be unique.
		if t.Name != "" && seenName[t.Name] {
			errs = append(errs, fmt.Errorf("%s: name used twice", what))
		}
		seenName[t.Name] = true
		if t.ICB != "" && t.SubICB != "" {
			errs = append(errs, fmt.Errorf("%s: set icb or sub_icb, not both", what))
		}
		for _, code := range []string{t.ICB, t.SubICB} {
			if code != "" && !codeRE.MatchString(code) {
				errs = append(errs, fmt.Errorf("%s: area code %q is not an ODS code (3 to 9 upper-case letters and digits)", what, code))
			}
		}
	}
	return toks, errors.Join(errs...)
}

// Scope is the area a scoped token sees.
type Scope = snapshot.Scope

func (t Token) scope() (Scope, bool) {
	switch {
	case t.ICB != "":
		return Scope{Level: "icb", Code: t.ICB}, true
	case t.SubICB != "":
		return Scope{Level: "sub_icb", Code: t.SubICB}, true
	}
	return Scope{}, false
}

// Scopes lists the distinct scopes of the configured tokens (checked as
// New checks them), for `gplens publish` to build their copies.
func Scopes(tokens []Token, tokenFile string) ([]Scope, error) {
	if len(tokens) == 0 && tokenFile == "" {
		return nil, nil
	}
	toks, err := Config{Tokens: tokens, TokenFile: tokenFile}.tokens()
	if err != nil {
		return nil, err
	}
	seen := map[Scope]bool{}
	var out []Scope
	for _, t := range toks {
		if sc, ok := t.scope(); ok && !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	return out, nil
}

// isLoopback reports whether addr (host:port) only listens on this machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readTokenFile reads lines "name token [icb=CODE|sub_icb=CODE]"; blank
// lines and lines starting with # are skipped.
func readTokenFile(path string) ([]Token, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	var toks []Token
	var errs []error
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 || len(fields) > 3 {
			errs = append(errs, fmt.Errorf("token file %s line %d: want `name token [icb=CODE|sub_icb=CODE]`", path, n))
			continue
		}
		t := Token{Name: fields[0], Token: fields[1], origin: fmt.Sprintf("token file %s line %d", path, n)}
		if len(fields) == 3 {
			k, v, _ := strings.Cut(fields[2], "=")
			if v == "" && (k == "icb" || k == "sub_icb") {
				// An empty scope must not silently mean "everything".
				errs = append(errs, fmt.Errorf("token file %s line %d: %s= has no area code", path, n, k))
				continue
			}
			switch k {
			case "icb":
				t.ICB = v
			case "sub_icb":
				t.SubICB = v
			default:
				errs = append(errs, fmt.Errorf("token file %s line %d: unknown scope %q (icb= or sub_icb=)", path, n, k))
				continue
			}
		}
		toks = append(toks, t)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("token file %s: %w", path, err))
	}
	return toks, errors.Join(errs...)
}
