package scctest

import (
	"context"
	"net"
	"net/http"
)

// ntlmAuth adapts the NTLM server side. TODO(integration): internal/ntlmserver.
type ntlmAuth struct{ s *Server }

func newNTLMAuth(s *Server) (*ntlmAuth, error) { return &ntlmAuth{s: s}, nil }

func (n *ntlmAuth) connContext(ctx context.Context, _ net.Conn) context.Context { return ctx }

// authenticate returns (principal, true) when it handled the request; it
// returns (nil, true) after writing a response itself.
func (n *ntlmAuth) authenticate(w http.ResponseWriter, r *http.Request) (*principal, bool) {
	return nil, false
}
