package ntlmserver

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Status is the outcome of [Server.Authenticate] for one HTTP request.
type Status int

const (
	// Unauthenticated: the request carries no NTLM or Negotiate token and
	// its connection has not been authenticated. The caller may try other
	// schemes (Basic, Bearer) or answer 401 with the WWW-Authenticate
	// headers of every scheme it offers (e.g. "Negotiate" and "NTLM").
	Unauthenticated Status = iota
	// ChallengeSent: the request carried a NEGOTIATE message and Authenticate
	// has written the 401 with the CHALLENGE. The caller must return without
	// writing anything else.
	ChallengeSent
	// Authenticated: the request carried a valid AUTHENTICATE message, or
	// arrived without Authorization on a connection authenticated earlier.
	// Result.Identity says who; the caller serves the request.
	Authenticated
	// Failed: the token was refused. Result.Err says why (a [*LogonError]
	// for refused credentials, which a caller counts for lockouts). The
	// caller answers 401 with its own WWW-Authenticate list.
	Failed
)

// String returns the name of the status, e.g. "Authenticated".
func (s Status) String() string {
	switch s {
	case Unauthenticated:
		return "Unauthenticated"
	case ChallengeSent:
		return "ChallengeSent"
	case Authenticated:
		return "Authenticated"
	case Failed:
		return "Failed"
	}
	return "Status(?)"
}

// Result is the outcome of [Server.Authenticate].
type Result struct {
	Status Status
	// Identity is who logged on (Authenticated), or who tried to (Failed
	// with a *LogonError).
	Identity Identity
	// Scheme is the HTTP scheme word the client used, "NTLM" or
	// "Negotiate"; empty when the request had no NTLM token. An
	// Authenticated result with an empty Scheme was authenticated by its
	// connection; with a Scheme, by a logon in this very request.
	Scheme string
	// Err is why the request Failed, nil otherwise.
	Err error
}

// maxDrain bounds how much of a request body the challenge leg reads and
// discards so that the connection can be kept alive for the next leg.
const maxDrain = 64 << 20

// connKey keys a connection's state in its context; the *Server makes the
// key unique per Server.
type connKey struct{ s *Server }

// connState is the NTLM state of one TCP connection.
type connState struct {
	mu       sync.Mutex
	pending  *Handshake // challenge sent, waiting for AUTHENTICATE
	identity *Identity  // set once the connection is authenticated
}

// ConnContext gives each connection its own NTLM state. Install it as the
// ConnContext of the http.Server before it starts:
//
//	srv := &http.Server{Handler: h, ConnContext: ns.ConnContext}
//
// or, with net/http/httptest:
//
//	ts := httptest.NewUnstartedServer(h)
//	ts.Config.ConnContext = ns.ConnContext
//	ts.Start() // or ts.StartTLS()
//
// A caller that has its own ConnContext calls this one from it.
func (s *Server) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{s}, &connState{})
}

// Authenticate runs the server side of NTLM over HTTP ([MS-NTHT]) for one
// request and reports the outcome; see [Status] for what the caller does
// with each. It understands "Authorization: NTLM <base64>" and
// "Authorization: Negotiate <base64>" carrying raw NTLMSSP (SPNEGO tokens
// fail with ErrUnsupportedToken); the challenge is sent under the scheme
// word the client used. Authorization headers of other schemes are left to
// the caller (Unauthenticated).
//
// The connection, not the request, is authenticated: after a good
// AUTHENTICATE message later requests on the same kept-alive connection
// are Authenticated without a new handshake, as with IIS; a new NEGOTIATE
// message on such a connection starts over. Clients that send the request
// body on every leg and clients that send a body-less request first both
// work: the challenge leg discards the body (up to 64 MiB) so the
// connection stays open.
//
// Authenticate needs the state installed by [Server.ConnContext]; without
// it every token Fails with ErrNoConnState. Tokens over HTTP/2 Fail with
// ErrHTTP2.
func (s *Server) Authenticate(w http.ResponseWriter, r *http.Request) Result {
	st, _ := r.Context().Value(connKey{s}).(*connState)
	scheme, token, ok := ntlmToken(r.Header.Values("Authorization"))
	if !ok {
		if st != nil {
			st.mu.Lock()
			id := st.identity
			st.mu.Unlock()
			if id != nil {
				return Result{Status: Authenticated, Identity: *id}
			}
		}
		return Result{Status: Unauthenticated}
	}
	fail := func(err error) Result { return Result{Status: Failed, Scheme: scheme, Err: err} }
	if st == nil {
		return fail(ErrNoConnState)
	}
	if r.ProtoMajor != 1 {
		return fail(ErrHTTP2)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	msg, err := decodeToken(token)
	if err != nil {
		st.pending = nil
		return fail(err)
	}
	if len(msg) > 0 && msg[0] == 0x60 { // ASN.1 [APPLICATION 0]: SPNEGO/GSS-API
		st.pending = nil
		return fail(ErrUnsupportedToken)
	}
	typ, err := messageType(msg)
	if err != nil {
		st.pending = nil
		return fail(err)
	}
	switch typ {
	case 1:
		// A new handshake replaces whatever the connection had.
		st.pending, st.identity = nil, nil
		h, challenge, err := s.Challenge(msg)
		if err != nil {
			return fail(err)
		}
		st.pending = h
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxDrain))
		}
		w.Header().Add("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(challenge))
		w.WriteHeader(http.StatusUnauthorized)
		return Result{Status: ChallengeSent, Scheme: scheme}
	case 3:
		h := st.pending
		st.pending, st.identity = nil, nil
		if h == nil {
			return fail(ErrOutOfSequence)
		}
		id, err := h.Authenticate(msg)
		if err != nil {
			return Result{Status: Failed, Scheme: scheme, Identity: id, Err: err}
		}
		st.identity = &id
		return Result{Status: Authenticated, Scheme: scheme, Identity: id}
	default:
		st.pending = nil
		return fail(ErrMalformedMessage)
	}
}

// ntlmToken finds an NTLM or Negotiate credential among Authorization
// header values and returns the canonical scheme word and the token.
func ntlmToken(values []string) (scheme, token string, ok bool) {
	for _, v := range values {
		word, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		switch {
		case strings.EqualFold(word, "NTLM"):
			return "NTLM", strings.TrimSpace(rest), true
		case strings.EqualFold(word, "Negotiate"):
			return "Negotiate", strings.TrimSpace(rest), true
		}
	}
	return "", "", false
}

// decodeToken decodes a base64 token, padded or not.
func decodeToken(token string) ([]byte, error) {
	if token == "" {
		return nil, ErrMalformedMessage
	}
	enc := base64.StdEncoding
	if !strings.HasSuffix(token, "=") && len(token)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(token)
	if err != nil {
		return nil, ErrMalformedMessage
	}
	return b, nil
}
