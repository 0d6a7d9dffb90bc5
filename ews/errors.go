package ews

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidRequest is wrapped by every error about a request the client
// refused to send (empty folder list, bad option value, malformed
// impersonation identifier). Nothing reached the server.
var ErrInvalidRequest = errors.New("ews: invalid request, nothing was sent")

// ErrResponseTooLarge is wrapped by the *HTTPError returned when a response
// body is larger than the limit set with [WithMaxResponseBytes].
var ErrResponseTooLarge = errors.New("ews: response body exceeds the size limit")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRequest}, args...)...)
}

// ResponseError is an EWS error reported in a response message (HTTP 200,
// ResponseClass="Error"): one item of a batch failed. Other items of the
// same batch may have succeeded.
//
// errors.Is(err, code) reports whether a ResponseError carries that
// [ResponseCode], e.g. errors.Is(err, ews.ErrorNonExistentMailbox).
type ResponseError struct {
	// Operation is the EWS operation, e.g. "GetFolder".
	Operation string
	// Index is the position of the item in the request's batch (0-based).
	Index int
	// Code is m:ResponseCode.
	Code ResponseCode
	// Message is m:MessageText, the server's explanation.
	Message string
	// MessageXML holds the m:MessageXml values, e.g. SmtpAddress or
	// BackOffMilliseconds.
	MessageXML MessageXML
}

// Error names the operation, the item's position in the batch, the code
// and the server's message.
func (e *ResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ews: %s item %d: %s", e.Operation, e.Index, e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	writeMessageXML(&b, e.MessageXML)
	if h := codeHint(e.Code); h != "" {
		b.WriteString("; ")
		b.WriteString(h)
	}
	return b.String()
}

// Is reports whether target is the ResponseCode of e.
func (e *ResponseError) Is(target error) bool {
	c, ok := target.(ResponseCode)
	return ok && c == e.Code
}

// Transient reports whether repeating the request later can succeed: the
// code is transient, or an ErrorInternalServerError wraps a transient
// InnerErrorResponseCode.
func (e *ResponseError) Transient() bool { return transientCode(e.Code, e.MessageXML) }

// FaultError is a SOAP fault (normally with HTTP 500): the request as a
// whole failed - schema validation, server version, impersonation header,
// throttling. No item of the request was processed.
//
// errors.Is(err, code) reports whether a FaultError carries that
// [ResponseCode], e.g. errors.Is(err, ews.ErrorImpersonateUserDenied).
type FaultError struct {
	// Operation is the EWS operation, e.g. "GetFolder".
	Operation string
	// StatusCode is the HTTP status the fault came with (usually 500).
	StatusCode int
	// FaultCode is the faultcode text as sent, e.g. "a:ErrorServerBusy".
	FaultCode string
	// FaultString is the faultstring text.
	FaultString string
	// Code is detail/e:ResponseCode, or the local part of faultcode when
	// that names an EWS code; empty for generic faults such as soap:Client.
	Code ResponseCode
	// Message is detail/e:Message.
	Message string
	// MessageXML holds the detail/t:MessageXml values, e.g.
	// BackOffMilliseconds, or LineNumber, LinePosition and Violation for
	// ErrorSchemaValidation.
	MessageXML MessageXML
}

// Error names the operation, the fault code and the server's message.
func (e *FaultError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ews: %s: SOAP fault", e.Operation)
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(string(e.Code))
	} else if e.FaultCode != "" {
		b.WriteString(" ")
		b.WriteString(e.FaultCode)
	}
	msg := e.Message
	if msg == "" {
		msg = e.FaultString
	}
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	writeMessageXML(&b, e.MessageXML)
	if h := codeHint(e.Code); h != "" {
		b.WriteString("; ")
		b.WriteString(h)
	}
	return b.String()
}

// Is reports whether target is the ResponseCode of e.
func (e *FaultError) Is(target error) bool {
	c, ok := target.(ResponseCode)
	return ok && e.Code != "" && c == e.Code
}

// Transient reports whether repeating the request later can succeed.
func (e *FaultError) Transient() bool { return transientCode(e.Code, e.MessageXML) }

// HTTPError is a response that is not a usable SOAP answer: an HTTP status
// other than 200 without a SOAP fault (403, 404, 5xx, a 302 to an outage
// page), an HTML login page from a proxy, a body that is empty, truncated,
// not XML or larger than the limit. Excerpt is a short, sanitized piece of
// the body for the log.
type HTTPError struct {
	// Operation is the EWS operation, e.g. "GetFolder".
	Operation string
	// StatusCode is the HTTP status code.
	StatusCode int
	// ContentType is the response's Content-Type header.
	ContentType string
	// Location is the redirect target of a 3xx response.
	Location string
	// Reason says what is wrong, e.g. "the body is not XML".
	Reason string
	// Excerpt is the start of the body with markup and control characters
	// removed, at most a few hundred bytes.
	Excerpt string
	// Err is the underlying cause, if any: an XML syntax error, or
	// [ErrResponseTooLarge].
	Err error
}

// Error names the operation, the HTTP status and why the response was not
// usable, with a short excerpt of the body.
func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ews: %s: HTTP %d %s", e.Operation, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	switch {
	case e.StatusCode == http.StatusForbidden:
		b.WriteString("; Exchange refused EWS for this account or application: EWS may be disabled for the mailbox or organization (EwsEnabled), or blocked by an EWS or application access policy; ask the Exchange administrator to allow EWS for the service account")
	case e.StatusCode == http.StatusNotFound:
		b.WriteString("; check the EWS URL, usually https://<host>/EWS/Exchange.asmx")
	case e.StatusCode >= 300 && e.StatusCode < 400:
		if e.Location != "" {
			fmt.Fprintf(&b, "; redirected to %s instead of answering (an outage page or a wrong EWS URL); not followed", e.Location)
		} else {
			b.WriteString("; a redirect instead of an answer (an outage page or a wrong EWS URL); not followed")
		}
	case e.StatusCode >= 500:
		b.WriteString("; a server or proxy error, usually transient: retry later")
	}
	if e.Err != nil && !errors.Is(e.Err, ErrResponseTooLarge) {
		b.WriteString(" (")
		b.WriteString(e.Err.Error())
		b.WriteString(")")
	}
	if e.Excerpt != "" {
		fmt.Fprintf(&b, "; body starts %q", e.Excerpt)
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *HTTPError) Unwrap() error { return e.Err }

// Transient reports whether the status usually clears by itself: 408, 429,
// 5xx and 3xx (outage redirects).
func (e *HTTPError) Transient() bool {
	switch {
	case e.StatusCode == http.StatusRequestTimeout, e.StatusCode == http.StatusTooManyRequests:
		return true
	case e.StatusCode >= 500, e.StatusCode >= 300 && e.StatusCode < 400:
		return !errors.Is(e.Err, ErrResponseTooLarge)
	}
	return false
}

// AuthError is an HTTP 401 that survived the authentication handshake: the
// server did not accept the credentials (or none were configured).
type AuthError struct {
	// Operation is the EWS operation, e.g. "GetFolder".
	Operation string
	// Scheme is the scheme the client tried: "Basic", "NTLM", "Bearer",
	// or "" when the Client has no auth option.
	Scheme string
	// Offered lists the schemes of the server's WWW-Authenticate headers,
	// e.g. ["Negotiate", "NTLM"].
	Offered []string
	// StatusCode is the HTTP status, 401.
	StatusCode int
	// Diagnostics is the x-ms-diagnostics header Exchange Online adds to
	// bearer failures, e.g. `2000008;reason="The token has expired."`.
	Diagnostics string
}

// Error names the scheme the client tried and the schemes the server
// offered.
func (e *AuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ews: %s: HTTP %d Unauthorized: ", e.Operation, e.StatusCode)
	offered := strings.Join(e.Offered, ", ")
	switch {
	case e.Scheme == "":
		b.WriteString("no credentials were sent")
		if offered != "" {
			fmt.Fprintf(&b, "; the server offers %s", offered)
		}
		b.WriteString("; configure the service account with WithNTLM, WithBasicAuth or WithTokenSource")
	case len(e.Offered) > 0 && !e.offers(e.Scheme):
		fmt.Fprintf(&b, "the server does not accept %s, it offers %s; use an auth option for one of those", e.Scheme, offered)
	default:
		fmt.Fprintf(&b, "the server rejected the %s credentials", e.Scheme)
		if offered != "" {
			fmt.Fprintf(&b, " (it offers %s)", offered)
		}
		switch strings.ToLower(e.Scheme) {
		case "bearer":
			b.WriteString("; check that the token is not expired, is for https://outlook.office365.com and that the app has the full_access_as_app permission with admin consent")
		case "ntlm", "negotiate":
			b.WriteString(`; check the service account's logon (DOMAIN\user or user@domain) and password, and that the account is not locked`)
		default:
			b.WriteString("; check the service account's logon and password, and that Basic authentication is enabled for EWS")
		}
	}
	if e.Diagnostics != "" {
		fmt.Fprintf(&b, " (x-ms-diagnostics: %s)", e.Diagnostics)
	}
	return b.String()
}

func (e *AuthError) offers(scheme string) bool {
	for _, s := range e.Offered {
		if strings.EqualFold(s, scheme) {
			return true
		}
	}
	return false
}

// ThrottledError reports that the server asked the client to slow down: a
// fault or response message ErrorServerBusy (with BackOffMilliseconds), or an
// HTTP 503 (with Retry-After). It is returned when the retry policy gives up,
// or at once when the server's back-off is longer than the policy's remaining
// wait budget. BackOff is how long the server asked to wait (zero when it did
// not say): a bulk job should pause every worker that uses the same service
// account for that long.
type ThrottledError struct {
	// Operation is the EWS operation, e.g. "GetFolder".
	Operation string
	// BackOff is the server's requested delay before the next request.
	BackOff time.Duration
	// StatusCode is the HTTP status (500 for a fault, 503, or 200 when every
	// response message was ErrorServerBusy).
	StatusCode int
	// Err is the *FaultError, *ResponseError or *HTTPError the server sent.
	Err error
}

// Error names the operation and the back-off the server asked for.
func (e *ThrottledError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ews: %s: the server is throttling this account", e.Operation)
	if e.BackOff > 0 {
		fmt.Fprintf(&b, " and asked to back off for %s", e.BackOff)
	}
	b.WriteString("; pause requests for that long or lower the concurrency")
	if e.Err != nil {
		b.WriteString(" (")
		b.WriteString(e.Err.Error())
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the server's error.
func (e *ThrottledError) Unwrap() error { return e.Err }

// TransportError is a failure to exchange the request and response: DNS,
// connection refused or reset, TLS, timeouts, a connection dropped before the
// response arrived. Unwrap gives the cause (errors.Is(err,
// context.DeadlineExceeded) works).
type TransportError struct {
	// Operation is the EWS operation, e.g. "GetFolder".
	Operation string
	// MaybeSent is true when the request may have reached the server, so
	// its effect is unknown. With net/http's *http.Transport (the default,
	// or the one of a WithHTTPClient client) it is whether request headers
	// (of any auth leg) were written to a connection, as net/http/httptrace
	// reports it: a failed dial, DNS lookup or TLS handshake, or a token
	// that could not be fetched, is false. With another RoundTripper it is
	// true unless the error shows the dial or DNS lookup failed.
	MaybeSent bool
	// Err is the cause.
	Err error
	// callerDone records that the caller's context had ended.
	callerDone bool
}

// Error names the operation and the network failure, and says whether the
// request may have reached the server.
func (e *TransportError) Error() string {
	s := "ews: " + e.Operation + ": "
	if e.MaybeSent {
		s += "the connection failed after the request was sent, its outcome is unknown: "
	} else {
		s += "sending the request failed: "
	}
	return s + e.Err.Error()
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// Transient reports whether a later attempt can succeed: false when the
// caller's context was cancelled or ran out; true for network failures and
// the HTTP client's own timeout.
func (e *TransportError) Transient() bool {
	if e.callerDone {
		return false
	}
	// A token source that failed (a wrong client secret, a consent
	// missing) fails the same way next time; retrying only hammers the
	// identity provider.
	var te *TokenError
	if errors.As(e.Err, &te) {
		return false
	}
	// An untrusted, expired or misnamed certificate stays so until an
	// administrator acts.
	if certificateProblem(e.Err) {
		return false
	}
	return !errors.Is(e.Err, context.Canceled)
}

// certificateProblem reports whether err is a failed verification of the
// server's TLS certificate.
func certificateProblem(err error) bool {
	var (
		cv       *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &cv) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// IsTransient reports whether err is a condition that usually clears by
// itself, so that the same request can succeed later: throttling
// ([*ThrottledError], HTTP 503), transient response codes (see
// [ResponseCode.Transient]) in a fault or response message, server errors
// (5xx), outage redirects and dropped connections. Authentication, policy
// (403), invalid requests and the caller's own context ending are not
// transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var te *ThrottledError
	if errors.As(err, &te) {
		return true
	}
	var re *ResponseError
	if errors.As(err, &re) {
		return re.Transient()
	}
	var fe *FaultError
	if errors.As(err, &fe) {
		return fe.Transient()
	}
	var ae *AuthError
	if errors.As(err, &ae) {
		return false
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Transient()
	}
	var tr *TransportError
	if errors.As(err, &tr) {
		return tr.Transient()
	}
	var c ResponseCode
	if errors.As(err, &c) {
		return c.Transient()
	}
	return false
}

// BackOff returns how long the server asked to wait before the next request,
// when err carries such a request: a [*ThrottledError] with a back-off, or a
// fault or response message whose MessageXML has BackOffMilliseconds.
func BackOff(err error) (time.Duration, bool) {
	var te *ThrottledError
	if errors.As(err, &te) && te.BackOff > 0 {
		return te.BackOff, true
	}
	var fe *FaultError
	if errors.As(err, &fe) {
		if d, ok := fe.MessageXML.backOff(); ok {
			return d, true
		}
	}
	var re *ResponseError
	if errors.As(err, &re) {
		if d, ok := re.MessageXML.backOff(); ok {
			return d, true
		}
	}
	return 0, false
}

func transientCode(c ResponseCode, x MessageXML) bool {
	if c.Transient() {
		return true
	}
	if inner, ok := x.Get("InnerErrorResponseCode"); ok {
		return ResponseCode(inner).Transient()
	}
	return false
}

func writeMessageXML(b *strings.Builder, x MessageXML) {
	if len(x) == 0 {
		return
	}
	b.WriteString(" (")
	for i, v := range x {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.Name)
		b.WriteString("=")
		b.WriteString(clip(v.Value))
	}
	b.WriteString(")")
}

// codeHint says what an administrator can do about the codes an
// impersonating admin tool meets most.
func codeHint(c ResponseCode) string {
	switch c {
	case ErrorImpersonateUserDenied:
		return "this mailbox is outside what the service account may impersonate: on-premises, add it to the management scope of the account's ApplicationImpersonation role assignment; Exchange Online, check the app's application access policy or RBAC for Applications scope"
	case ErrorImpersonationDenied:
		return "the service account may not use Exchange Impersonation at all: assign it the ApplicationImpersonation role"
	case ErrorImpersonationFailed:
		return "the server failed while impersonating; retry later, then check the service account and directory health"
	case ErrorInvalidExchangeImpersonationHeaderData:
		return "the impersonation header is empty or not allowed with this credential (a delegated OAuth token must not impersonate; use an app-only token)"
	case ErrorNonExistentMailbox:
		return "no mailbox has this address: check the user's primary SMTP address"
	case ErrorServerBusy:
		return "the server is throttling this account: back off"
	case ErrorInvalidServerVersion, ErrorInvalidSchemaVersionForMailboxVersion:
		return "the server does not accept this RequestServerVersion: choose an older one with WithServerVersion"
	case ErrorSchemaValidation:
		return "the server rejected the request's XML; this is a bug in the client, please report it"
	}
	return ""
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// dialFailed reports whether err happened before any byte of the request
// could be written: the connection was never established, or the token
// source failed before the request was handed to the network.
func dialFailed(err error) bool {
	var te *TokenError
	if errors.As(err, &te) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
