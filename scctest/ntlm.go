package scctest

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/sccsync/scc/internal/ntlmserver"
)

// ntlmAuth is NTLM over HTTP as IIS does it for /EWS, verified by
// internal/ntlmserver against the accounts of the fake directory.
type ntlmAuth struct {
	s  *Server
	ns *ntlmserver.Server
}

func newNTLMAuth(s *Server) (*ntlmAuth, error) {
	n := &ntlmAuth{s: s}
	ns, err := ntlmserver.New(ntlmserver.Config{
		NetBIOSDomain: s.cfg.netbios,
		DNSDomain:     s.cfg.dnsDomain,
		Computer:      "EXCH01",
		Password:      n.password,
		Now:           s.cfg.now,
	})
	if err != nil {
		return nil, err
	}
	n.ns = ns
	return n, nil
}

// password looks an account up for the NTLM verifier; locked accounts are
// refused like unknown ones, as a domain controller does.
func (n *ntlmAuth) password(user, domain string) (string, bool) {
	s := n.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	acc := s.findAccountLocked(user, domain)
	if acc == nil || acc.locked {
		return "", false
	}
	return acc.password, true
}

func (n *ntlmAuth) connContext(ctx context.Context, c net.Conn) context.Context {
	return n.ns.ConnContext(ctx, c)
}

// authenticate runs one NTLM leg. It returns (principal, true) for an
// authenticated request, (nil, true) when it has answered (challenge or
// 401), and (nil, false) when the request carries no NTLM token on an
// unauthenticated connection.
func (n *ntlmAuth) authenticate(w http.ResponseWriter, r *http.Request) (*principal, bool) {
	s := n.s
	res := n.ns.Authenticate(w, r)
	switch res.Status {
	case ntlmserver.ChallengeSent:
		return nil, true
	case ntlmserver.Authenticated:
		s.mu.Lock()
		acc := s.findAccountLocked(res.Identity.User, res.Identity.Domain)
		if acc != nil && res.Scheme != "" {
			acc.failed = 0
		}
		s.mu.Unlock()
		if acc == nil {
			s.auth.unauthorized(w, r, "")
			return nil, true
		}
		return &principal{scheme: AuthNTLM, name: acc.logon, acc: acc}, true
	case ntlmserver.Failed:
		var le *ntlmserver.LogonError
		if errors.As(res.Err, &le) {
			name := le.User
			if le.Domain != "" {
				name = le.Domain + `\` + le.User
			}
			s.mu.Lock()
			if acc := s.findAccountLocked(le.User, le.Domain); acc != nil {
				s.failedLogonLocked(acc)
				name = acc.logon
			}
			s.mu.Unlock()
			s.countFailedLogon(name)
		}
		s.auth.unauthorized(w, r, "")
		return nil, true
	}
	return nil, false
}
