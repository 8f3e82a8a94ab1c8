//go:build duckdb_arrow

package server

import (
	"context"
	"crypto/subtle"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// identity is who a request runs as.
type identity struct {
	name  string
	level string // "", "icb" or "sub_icb"
	code  string
}

type identityKey struct{}

func identityFrom(ctx context.Context) (identity, bool) {
	id, ok := ctx.Value(identityKey{}).(identity)
	return id, ok
}

type authenticator struct {
	tokens []Token
}

// check compares the bearer token with every configured token in constant
// time, so timing tells nothing about which or how much matched.
func (a *authenticator) check(ctx context.Context) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var presented string
	for _, v := range md.Get("authorization") {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			presented = strings.TrimSpace(v[7:])
			break
		}
	}
	if presented == "" {
		return nil, status.Error(codes.Unauthenticated, "missing bearer token: send the header `authorization: Bearer <token>`")
	}
	match := -1
	for i, t := range a.tokens {
		if subtle.ConstantTimeCompare([]byte(presented), []byte(t.Token)) == 1 {
			match = i
		}
	}
	if match < 0 {
		return nil, status.Error(codes.Unauthenticated, "invalid token")
	}
	t := a.tokens[match]
	id := identity{name: t.Name}
	switch {
	case t.ICB != "":
		id.level, id.code = "icb", t.ICB
	case t.SubICB != "":
		id.level, id.code = "sub_icb", t.SubICB
	}
	return context.WithValue(ctx, identityKey{}, id), nil
}

func (a *authenticator) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	ctx, err := a.check(ctx)
	if err != nil {
		return nil, err
	}
	return h(ctx, req)
}

type authStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s authStream) Context() context.Context { return s.ctx }

func (a *authenticator) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ctx, err := a.check(ss.Context())
	if err != nil {
		return err
	}
	return h(srv, authStream{ServerStream: ss, ctx: ctx})
}
