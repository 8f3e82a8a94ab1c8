package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gplens/gplens/server"
)

func newServeCommand(g *GlobalOptions) *cobra.Command {
	var addr, tokenFile string
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:31337]",
		Short: "Serve the last published snapshot over a read-only Arrow Flight SQL endpoint",
		Long: `Serve the last published snapshot over Arrow Flight SQL for dashboards (Python ADBC,
DBeaver/JDBC, Superset). Read-only and confined: only SELECT runs; no file access, ATTACH,
INSTALL, LOAD, COPY or SET. Bearer tokens from [serve] in gplens.toml or --token-file;
TLS when tls_cert and tls_key are set. Moves to a new snapshot when a publish finishes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.openWorkspace()
			if err != nil {
				return err
			}
			sc := w.Config.Serve
			cfg := server.Config{
				Addr: sc.Addr, Workspace: w.Dir, TokenFile: sc.TokenFile, TLSCert: sc.TLSCert, TLSKey: sc.TLSKey,
				MemoryLimit: sc.MemoryLimit, Threads: sc.Threads, Version: version, Logger: g.log,
			}
			if addr != "" {
				cfg.Addr = addr
			}
			if tokenFile != "" {
				cfg.TokenFile = tokenFile
			}
			if sc.QueryTimeout != "" {
				d, err := time.ParseDuration(sc.QueryTimeout)
				if err != nil {
					return usagef("serve.query_timeout %q in gplens.toml: %v", sc.QueryTimeout, err)
				}
				cfg.QueryTimeout = d
			}
			for _, t := range sc.Tokens {
				cfg.Tokens = append(cfg.Tokens, server.Token{Name: t.Name, Token: t.Token, ICB: t.ICB, SubICB: t.SubICB})
			}
			srv, err := server.New(cfg)
			if err != nil {
				return usageError{err}
			}
			fmt.Fprintf(g.stderr, "gplens: serving %s/published over Arrow Flight SQL on %s\n", w.Dir, srv.Addr())
			return srv.Serve(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (default serve.addr, 127.0.0.1:31337)")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file of bearer tokens, one per line: name token [icb=CODE|sub_icb=CODE]")
	return cmd
}
