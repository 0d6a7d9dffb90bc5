package scctest

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
)

// principal is who an authenticated request runs as.
type principal struct {
	scheme AuthScheme
	name   string   // logon or app id, for the log
	acc    *account // Basic / NTLM
	tok    *token   // Bearer
}

// key identifies the principal for per-account budgets.
func (p *principal) key() string {
	if p.tok != nil {
		return "app:" + strings.ToLower(p.tok.AppID) + "|" + strings.ToLower(p.tok.User)
	}
	return "acc:" + strings.ToLower(p.acc.logon)
}

// authenticator runs the HTTP authentication schemes the server offers.
type authenticator struct {
	s       *Server
	basic   bool
	bearer  bool
	ntlm    *ntlmAuth // nil when NTLM is not offered
	schemes []AuthScheme
}

func newAuthenticator(s *Server) (*authenticator, error) {
	a := &authenticator{s: s, schemes: s.cfg.schemes}
	for _, sc := range s.cfg.schemes {
		switch sc {
		case AuthBasic:
			a.basic = true
		case AuthBearer:
			a.bearer = true
		case AuthNTLM:
			n, err := newNTLMAuth(s)
			if err != nil {
				return nil, err
			}
			a.ntlm = n
		}
	}
	return a, nil
}

// connContext installs per-connection state (NTLM authenticates
// connections, not requests).
func (a *authenticator) connContext(ctx context.Context, c net.Conn) context.Context {
	if a.ntlm != nil {
		return a.ntlm.connContext(ctx, c)
	}
	return ctx
}

// Bearer challenge as Exchange Online sends it.
const bearerChallenge = `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"`

// unauthorized answers 401 with a WWW-Authenticate header for every scheme
// the server offers, in the order IIS and Exchange Online use.
func (a *authenticator) unauthorized(w http.ResponseWriter, r *http.Request, bearerError string) {
	h := w.Header()
	for _, sc := range a.schemes {
		switch sc {
		case AuthBearer:
			v := bearerChallenge
			if bearerError != "" {
				v += `, error="invalid_token"`
				h.Set("X-Ms-Diagnostics", `2000001;reason="`+bearerError+`";error_category="invalid_token"`)
			}
			h.Add("WWW-Authenticate", v)
		case AuthNTLM:
			h.Add("WWW-Authenticate", "Negotiate")
			h.Add("WWW-Authenticate", "NTLM")
		case AuthBasic:
			host := r.Host
			if hh, _, err := net.SplitHostPort(host); err == nil {
				host = hh
			}
			h.Add("WWW-Authenticate", `Basic realm="`+strings.ReplaceAll(host, `"`, "")+`"`)
		}
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}

// authenticate authenticates r. It returns the principal, or nil when it has
// answered the request itself (401, or an NTLM challenge leg).
func (a *authenticator) authenticate(w http.ResponseWriter, r *http.Request) *principal {
	authz := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(authz, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case a.basic && strings.EqualFold(scheme, "Basic"):
		return a.basicAuth(w, r, cred)
	case a.bearer && strings.EqualFold(scheme, "Bearer"):
		return a.bearerAuth(w, r, cred)
	case a.ntlm != nil && (authz == "" || strings.EqualFold(scheme, "NTLM") || strings.EqualFold(scheme, "Negotiate")):
		p, done := a.ntlm.authenticate(w, r)
		if done {
			return p
		}
	}
	a.unauthorized(w, r, "")
	return nil
}

func (a *authenticator) basicAuth(w http.ResponseWriter, r *http.Request, cred string) *principal {
	raw, err := base64.StdEncoding.DecodeString(cred)
	user, pass, ok := strings.Cut(string(raw), ":")
	if err != nil || !ok || user == "" {
		a.unauthorized(w, r, "")
		return nil
	}
	s := a.s
	s.mu.Lock()
	acc := s.findAccountLocked(user, "")
	good := acc != nil && !acc.locked && constantTimeEqual(acc.password, pass)
	var logon string
	if acc != nil {
		logon = acc.logon
		if good {
			acc.failed = 0
		} else {
			s.failedLogonLocked(acc)
		}
	}
	s.mu.Unlock()
	if !good {
		if logon == "" {
			logon = user
		}
		s.countFailedLogon(logon)
		a.unauthorized(w, r, "")
		return nil
	}
	return &principal{scheme: AuthBasic, name: acc.logon, acc: acc}
}

// failedLogonLocked counts a failed logon and locks the account when the
// threshold is reached. Callers hold mu.
func (s *Server) failedLogonLocked(acc *account) {
	acc.failed++
	if s.cfg.lockout > 0 && acc.failed >= s.cfg.lockout {
		acc.locked = true
	}
}

func (a *authenticator) bearerAuth(w http.ResponseWriter, r *http.Request, cred string) *principal {
	s := a.s
	s.mu.RLock()
	tk := s.dir.tokens[cred]
	s.mu.RUnlock()
	if tk == nil {
		s.countFailedLogon("bearer")
		a.unauthorized(w, r, "The token is invalid or has expired.")
		return nil
	}
	name := tk.AppID
	if tk.Kind == Delegated {
		name = tk.User
	}
	return &principal{scheme: AuthBearer, name: name, tok: tk}
}

// constantTimeEqual compares secrets without early exit.
func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
