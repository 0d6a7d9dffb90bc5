package ews

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
)

// WithBasicAuth authenticates with HTTP Basic: the service account's logon
// (user@domain, DOMAIN\user or a plain user name, as the server expects) and
// password on every request. Basic puts the password on the wire, so
// [NewClient] refuses it over plain http:// unless [WithInsecureHTTP] is
// given. Exchange Online no longer accepts Basic for EWS; on-premises
// Exchange accepts it when Basic authentication is enabled on the EWS
// virtual directory.
func WithBasicAuth(username, password string) Option {
	return func(c *clientConfig) error {
		if strings.TrimSpace(username) == "" {
			return errors.New("ews: WithBasicAuth: username is empty")
		}
		if strings.Contains(username, ":") {
			return errors.New("ews: WithBasicAuth: username contains ':', which Basic authentication cannot carry")
		}
		if password == "" {
			return fmt.Errorf("ews: WithBasicAuth: password of %q is empty", username)
		}
		return c.setAuth(&basicAuth{username: username, password: secret(password)})
	}
}

// basicAuth is the Basic method. The password sits in a closure, which fmt
// never prints with any verb.
type basicAuth struct {
	username string
	password func() string
}

// secret hides s in a closure so that no fmt verb can print it, even through
// unexported fields of values that embed it.
func secret(s string) func() string { return func() string { return s } }

func (*basicAuth) scheme() string                         { return "Basic" }
func (*basicAuth) secretInClear() bool                    { return true }
func (*basicAuth) prepareTransport(*http.Transport) error { return nil }
func (b *basicAuth) String() string                       { return "Basic auth for " + b.username }
func (b *basicAuth) GoString() string                     { return b.String() }

func (b *basicAuth) addSecrets(r *redactor) { r.addPassword(b.username, b.password) }

func (b *basicAuth) wrap(l *connLayers) (http.RoundTripper, error) {
	base, err := l.roundTripper()
	if err != nil {
		return nil, err
	}
	return basicTransport{base: base, auth: b}, nil
}

type basicTransport struct {
	base http.RoundTripper
	auth *basicAuth
}

func (t basicTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.SetBasicAuth(t.auth.username, t.auth.password())
	return t.base.RoundTrip(r)
}

func (t basicTransport) CloseIdleConnections() { closeIdle(t.base) }

// AccessToken is an OAuth 2.0 access token that can authorize an HTTP
// request. *oauth2.Token from golang.org/x/oauth2 satisfies it.
type AccessToken interface {
	// SetAuthHeader sets the request's Authorization header, e.g.
	// "Bearer eyJ0...".
	SetAuthHeader(*http.Request)
}

// TokenSource supplies access tokens. It has the shape of
// golang.org/x/oauth2's TokenSource (Token() (*oauth2.Token, error)), so an
// oauth2.TokenSource, for example from clientcredentials.Config.TokenSource,
// can be passed to [WithTokenSource] directly; this package does not import
// oauth2. Token is called for every request, so it should cache (as
// oauth2.ReuseTokenSource does), and it must be safe for concurrent use.
type TokenSource[T AccessToken] interface {
	Token() (T, error)
}

// WithTokenSource authenticates with OAuth 2.0 bearer tokens from ts, as
// Exchange Online requires. T is inferred: pass an oauth2.TokenSource as
// it is.
//
// Each request carries the current token. When the server answers 401, the
// client asks ts for a token again and, if it got a different one (a
// refreshed or rotated token), retries the request once; otherwise the 401
// becomes an [*AuthError] with the server's x-ms-diagnostics reason.
//
// For Exchange Online app-only access (the client-credentials flow with the
// full_access_as_app application permission and scope
// https://outlook.office365.com/.default) the token names no user: every
// call must impersonate a mailbox ([Impersonate] or [Client.With]), and
// X-AnchorMailbox must name the same mailbox (set by this package when
// impersonating), or Exchange refuses the request. With a delegated token
// (scope https://outlook.office365.com/EWS.AccessAsUser.All) do not
// impersonate: Exchange answers ErrorInvalidExchangeImpersonationHeaderData.
//
// Tokens are secrets in clear: [NewClient] refuses them over plain http://
// unless [WithInsecureHTTP] is given.
func WithTokenSource[T AccessToken](ts TokenSource[T]) Option {
	return func(c *clientConfig) error {
		if ts == nil {
			return errors.New("ews: WithTokenSource: token source is nil")
		}
		return c.setAuth(&bearerAuth{token: func(*http.Request) (string, func(*http.Request), error) {
			tok, err := ts.Token()
			if err != nil {
				return "", nil, err
			}
			if isNil(tok) {
				return "", nil, errors.New("token source returned a nil token")
			}
			set := tok.SetAuthHeader
			return authorizationOf(set), set, nil
		}})
	}
}

// WithBearerToken authenticates with OAuth 2.0 bearer tokens returned by
// token (the bare access token, without "Bearer "). token is called with the
// request's context for every request, so it should cache; it must be safe
// for concurrent use. Everything said for [WithTokenSource] applies: refresh
// and one retry on 401, impersonation required with app-only tokens, refused
// over plain http:// unless [WithInsecureHTTP] is given.
func WithBearerToken(token func(ctx context.Context) (string, error)) Option {
	return func(c *clientConfig) error {
		if token == nil {
			return errors.New("ews: WithBearerToken: token function is nil")
		}
		return c.setAuth(&bearerAuth{token: func(r *http.Request) (string, func(*http.Request), error) {
			s, err := token(r.Context())
			if err != nil {
				return "", nil, err
			}
			s = strings.TrimSpace(s)
			if s == "" {
				return "", nil, errors.New("token function returned an empty token")
			}
			h := "Bearer " + s
			return h, func(r *http.Request) { r.Header.Set("Authorization", h) }, nil
		}})
	}
}

// bearerAuth is the Bearer method. token returns the Authorization header
// value a token produces (to compare tokens without knowing their type) and
// the function that sets it.
type bearerAuth struct {
	token func(*http.Request) (authorization string, set func(*http.Request), err error)
	red   *redactor // learns each token sent, to hide it if echoed back
}

func (*bearerAuth) scheme() string                         { return "Bearer" }
func (*bearerAuth) secretInClear() bool                    { return true }
func (*bearerAuth) prepareTransport(*http.Transport) error { return nil }
func (*bearerAuth) String() string                         { return "Bearer token auth" }
func (b *bearerAuth) GoString() string                     { return b.String() }

func (b *bearerAuth) addSecrets(r *redactor) { b.red = r }

func (b *bearerAuth) wrap(l *connLayers) (http.RoundTripper, error) {
	base, err := l.roundTripper()
	if err != nil {
		return nil, err
	}
	return bearerTransport{base: base, auth: b}, nil
}

// authorizationOf returns the Authorization header value that set produces.
func authorizationOf(set func(*http.Request)) string {
	r := &http.Request{Header: make(http.Header, 1)}
	set(r)
	return r.Header.Get("Authorization")
}

type bearerTransport struct {
	base http.RoundTripper
	auth *bearerAuth
}

// TokenError is returned (wrapped in the call's transport error) when the
// token source of [WithTokenSource] or [WithBearerToken] fails. It never
// contains a token.
type TokenError struct {
	// Err is the token source's error.
	Err error
}

// Error says that fetching a bearer token failed, with the token source's
// error.
func (e *TokenError) Error() string {
	return "ews: getting a bearer token failed: " + e.Err.Error()
}

// Unwrap returns the token source's error.
func (e *TokenError) Unwrap() error { return e.Err }

func (t bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	authz, set, err := t.auth.token(req)
	if err != nil {
		closeBody(req)
		return nil, &TokenError{Err: err}
	}
	r := req.Clone(req.Context()) // shares req.Body, which base closes
	set(r)
	t.auth.red.sawToken(authz)
	resp, err := t.base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// The token may have expired or been revoked since the source cached
	// it: ask again and retry once if it changed.
	authz2, set2, err := t.auth.token(req)
	if err != nil || authz2 == authz {
		return resp, nil
	}
	r2, err := cloneWithBody(req)
	if err != nil {
		return resp, nil
	}
	drain(resp)
	set2(r2)
	t.auth.red.sawToken(authz2)
	return t.base.RoundTrip(r2)
}

func (t bearerTransport) CloseIdleConnections() { closeIdle(t.base) }

// cloneWithBody returns a copy of req with a fresh body from GetBody, to send
// req again (the body of a request built from a bytes.Reader, as this
// package's are, can be replayed).
func cloneWithBody(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return r, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("ews: request body cannot be replayed for authentication (no GetBody)")
	}
	b, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("ews: replaying the request body: %w", err)
	}
	r.Body = b
	return r, nil
}

// isNil reports whether v is a nil interface, pointer, map, slice, func or
// chan (a token source may return a typed nil *oauth2.Token).
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// closeBody closes req's body, as a RoundTripper must even when it fails.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// drain reads a little of resp's body and closes it, so that its connection
// can be reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// closeIdle forwards CloseIdleConnections to rt when it supports it.
func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
