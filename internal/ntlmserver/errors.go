package ntlmserver

import (
	"errors"
	"fmt"
)

// Errors reported in [Result.Err] and by [Handshake.Authenticate]. Match them
// with errors.Is. Credential failures come wrapped in a [*LogonError] that
// names the account.
var (
	// ErrMalformedMessage means an NTLM token was not valid base64 or not a
	// well-formed NTLMSSP message.
	ErrMalformedMessage = errors.New("ntlmserver: malformed NTLM message")
	// ErrUnsupportedToken means the client sent a SPNEGO (Kerberos) token
	// under the Negotiate scheme; only raw NTLMSSP is supported.
	ErrUnsupportedToken = errors.New("ntlmserver: SPNEGO/Kerberos token not supported; send raw NTLMSSP under NTLM or Negotiate")
	// ErrOutOfSequence means an AUTHENTICATE message arrived on a
	// connection that has no outstanding challenge (for example on a new
	// connection, or twice for one challenge).
	ErrOutOfSequence = errors.New("ntlmserver: AUTHENTICATE message without a challenge on this connection; NTLM needs all legs on one kept-alive connection")
	// ErrNoConnState means the request's context lacks the per-connection
	// state; install [Server.ConnContext] as the http.Server's ConnContext.
	ErrNoConnState = errors.New("ntlmserver: request has no NTLM connection state; set http.Server.ConnContext to Server.ConnContext")
	// ErrHTTP2 means an NTLM token arrived over HTTP/2, where requests do
	// not own their connection. Windows servers refuse it too; clients must
	// use HTTP/1.1.
	ErrHTTP2 = errors.New("ntlmserver: NTLM over HTTP/2 is not supported; use HTTP/1.1")

	// ErrAnonymous means the client attempted an anonymous logon.
	ErrAnonymous = errors.New("anonymous logon refused")
	// ErrNTLMv1 means the client sent an NTLMv1 or LM-only response.
	ErrNTLMv1 = errors.New("NTLMv1/LM response refused; NTLMv2 required")
	// ErrUnknownAccount means Config.Password did not know the account (or
	// refused it, e.g. because it is disabled or locked out).
	ErrUnknownAccount = errors.New("unknown or disabled account")
	// ErrWrongPassword means the NTLMv2 response did not match the
	// account's password.
	ErrWrongPassword = errors.New("wrong password")
	// ErrClockSkew means the client's NTLMv2 timestamp is outside
	// Config.MaxClockSkew.
	ErrClockSkew = errors.New("NTLMv2 timestamp outside the allowed clock skew")
	// ErrMIC means the message integrity code of the AUTHENTICATE message
	// did not verify (the handshake was tampered with or the client is
	// broken).
	ErrMIC = errors.New("message integrity code (MIC) does not verify")
)

// LogonError is a failed logon: a well-formed AUTHENTICATE message whose
// credentials were refused. Callers count these to lock accounts out. It
// never contains the password or any key material.
type LogonError struct {
	// User, Domain and Workstation are as the client sent them.
	User, Domain, Workstation string
	// Err is the reason: ErrAnonymous, ErrNTLMv1, ErrUnknownAccount,
	// ErrWrongPassword, ErrClockSkew or ErrMIC.
	Err error
}

// Error names the account the client claimed and why the logon was
// refused.
func (e *LogonError) Error() string {
	who := e.User
	if e.Domain != "" {
		who = e.Domain + `\` + e.User
	}
	if who == "" {
		who = "(anonymous)"
	}
	if e.Workstation != "" {
		return fmt.Sprintf("ntlmserver: logon of %q from workstation %q failed: %v", who, e.Workstation, e.Err)
	}
	return fmt.Sprintf("ntlmserver: logon of %q failed: %v", who, e.Err)
}

// Unwrap returns the reason, for errors.Is.
func (e *LogonError) Unwrap() error { return e.Err }
