//go:build !duckdb_arrow

package server

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// errNoArrow explains a binary built without DuckDB's Arrow interface.
var errNoArrow = errors.New("this gplens was built without -tags duckdb_arrow, so the Flight SQL server is unavailable")

// Server is unavailable in builds without the duckdb_arrow tag.
type Server struct{}

// New checks cfg, then fails: the server needs -tags duckdb_arrow.
func New(cfg Config) (*Server, error) {
	if _, err := cfg.tokens(); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return nil, errNoArrow
}

// Addr is never reached: New fails.
func (s *Server) Addr() net.Addr { return nil }

// Serve fails: the server needs -tags duckdb_arrow.
func (s *Server) Serve(context.Context) error { return errNoArrow }

// Refresh fails: the server needs -tags duckdb_arrow.
func (s *Server) Refresh(context.Context) error { return errNoArrow }
