package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gplens/gplens/server"
)

// serveAddrEnv overrides serve.addr (a --addr flag overrides both).
const serveAddrEnv = "GPLENS_SERVE_ADDR"

func newServeCommand(g *GlobalOptions) *cobra.Command {
	var addr, tokenFile, tlsCert, tlsKey, queryTimeout, memoryLimit string
	var threads int
	var insecure bool
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:31337]",
		Short: "Serve the last published snapshot over a read-only Arrow Flight SQL endpoint",
		Long: `Serve the last published snapshot over Arrow Flight SQL for dashboards (Python ADBC,
DBeaver/JDBC, Superset). Read-only and confined: one SELECT per request over the analyst
views and marts, calling only the functions in data/sql_allowlist.csv; per-token quotas.
Bearer tokens from [serve] in gplens.toml or --token-file; TLS with --tls-cert/--tls-key
(required for a non-loopback address unless --insecure). Moves to a new snapshot when a
publish finishes. Flags override gplens.toml; ` + serveAddrEnv + ` overrides serve.addr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.openWorkspace()
			if err != nil {
				return err
			}
			sc := w.Config.Serve
			cfg := server.Config{
				Addr: sc.Addr, Workspace: w.Dir, TokenFile: sc.TokenFile, TLSCert: sc.TLSCert, TLSKey: sc.TLSKey,
				MemoryLimit: sc.MemoryLimit, Threads: sc.Threads, Version: version, Logger: g.log, Insecure: insecure,
			}
			if v := os.Getenv(serveAddrEnv); v != "" {
				cfg.Addr = v
			}
			flags := cmd.Flags()
			set := func(name string, dst *string, v string) {
				if flags.Changed(name) {
					*dst = v
				}
			}
			set("addr", &cfg.Addr, addr)
			set("token-file", &cfg.TokenFile, tokenFile)
			set("tls-cert", &cfg.TLSCert, tlsCert)
			set("tls-key", &cfg.TLSKey, tlsKey)
			set("memory-limit", &cfg.MemoryLimit, memoryLimit)
			if flags.Changed("threads") {
				cfg.Threads = threads
			}
			qt := sc.QueryTimeout
			what := "serve.query_timeout in gplens.toml"
			if flags.Changed("query-timeout") {
				qt, what = queryTimeout, "--query-timeout"
			}
			if qt != "" {
				d, err := time.ParseDuration(qt)
				if err != nil || d <= 0 {
					return usagef("%s %q: want a duration such as 60s or 5m", what, qt)
				}
				cfg.QueryTimeout = d
			}
			if cfg.Threads < 0 {
				return usagef("--threads %d: want 0 (all cores) or more", cfg.Threads)
			}
			for _, t := range sc.Tokens {
				cfg.Tokens = append(cfg.Tokens, server.Token{Name: t.Name, Token: t.Token, ICB: t.ICB, SubICB: t.SubICB})
			}
			srv, err := server.New(cfg)
			if err != nil {
				return usageError{err}
			}
			fmt.Fprintf(g.stderr, "gplens: serving the published snapshot over Arrow Flight SQL on %s\n", srv.Addr())
			return srv.Serve(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "", "listen address (default "+serveAddrEnv+", else serve.addr, else 127.0.0.1:31337)")
	f.StringVar(&tokenFile, "token-file", "", "file of bearer tokens, one per line: name token [icb=CODE|sub_icb=CODE]")
	f.StringVar(&tlsCert, "tls-cert", "", "PEM certificate (with --tls-key turns TLS on; default serve.tls_cert)")
	f.StringVar(&tlsKey, "tls-key", "", "PEM private key (default serve.tls_key)")
	f.StringVar(&queryTimeout, "query-timeout", "", "limit per query, from execution to the end of its stream (default serve.query_timeout, else 5m)")
	f.StringVar(&memoryLimit, "memory-limit", "", `DuckDB memory_limit per open snapshot, e.g. "2GB" (default serve.memory_limit)`)
	f.IntVar(&threads, "threads", 0, "DuckDB threads (default serve.threads, else all cores)")
	f.BoolVar(&insecure, "insecure", false, "allow a non-loopback --addr without TLS (tokens and data travel in clear text)")
	return cmd
}
