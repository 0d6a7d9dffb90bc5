package impersonation

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/sccsync/scc/ews"
)

// outcome is the classification of one request's error.
type outcome struct {
	status  Status
	code    ews.ResponseCode
	message string
	// retry: the condition usually clears, so the request may be repeated
	// within the retry budget.
	retry bool
	// gate: the server asked the whole account to back off (ErrorServerBusy,
	// HTTP 503); backoff is how long, zero when it did not say.
	gate    bool
	backoff time.Duration
	// lower: ErrorExceededConnectionCount, lower the concurrency.
	lower bool
	// stop: every other user would fail the same way (impersonation denied
	// for the whole account, credentials rejected).
	stop bool
	// net: what kind of network failure, for the remediation.
	net netKind
}

// netKind names the stage at which a network failure happened.
type netKind int

const (
	netNone netKind = iota
	netDNS
	netConnect
	netTLS
	netTLSUntrusted
	netTLSName
	netTLSExpired
	netTLSNotTLS
	netDropped
	netTimeout
)

// classify maps the error of a read-only request (GetFolder) to an outcome.
// err must not be the caller's own context ending; the check handles that
// before classifying.
func classify(err error) outcome {
	if err == nil {
		return outcome{status: StatusOK}
	}
	var (
		te *ews.ThrottledError
		ae *ews.AuthError
		fe *ews.FaultError
		re *ews.ResponseError
		he *ews.HTTPError
		tr *ews.TransportError
	)
	switch {
	case errors.As(err, &te):
		o := outcome{status: StatusThrottled, gate: true, backoff: te.BackOff, retry: true, message: te.Error()}
		if errors.As(te.Err, &fe) {
			o.code, o.message = fe.Code, faultMessage(fe)
		} else if errors.As(te.Err, &re) {
			o.code, o.message = re.Code, re.Message
		}
		if o.code == ews.ErrorExceededConnectionCount {
			o.lower = true
		}
		return o
	case errors.As(err, &ae):
		return outcome{status: StatusAuthFailed, stop: true, message: authMessage(ae)}
	case errors.As(err, &fe):
		o := classifyCode(fe.Code, faultMessage(fe))
		if d, ok := ews.BackOff(fe); ok {
			o.backoff = d
		}
		if fe.Code == "" {
			o.retry = fe.Transient()
		}
		return o
	case errors.As(err, &re):
		o := classifyCode(re.Code, re.Message)
		if d, ok := ews.BackOff(re); ok {
			o.backoff = d
		}
		if !o.retry && re.Transient() {
			o.retry = true // ErrorInternalServerError wrapping a transient code
		}
		return o
	case errors.As(err, &he):
		return classifyHTTP(he)
	case errors.As(err, &tr):
		return classifyTransport(tr)
	case errors.Is(err, ews.ErrInvalidRequest):
		return outcome{status: StatusError, message: err.Error()}
	}
	return outcome{status: StatusError, message: err.Error(), retry: ews.IsTransient(err)}
}

// classifyCode maps an EWS response code.
func classifyCode(code ews.ResponseCode, msg string) outcome {
	o := outcome{code: code, message: msg}
	switch code {
	case ews.NoError, "":
		o.status = StatusError
	case ews.ErrorImpersonationDenied:
		o.status, o.stop = StatusImpersonationDenied, true
	case ews.ErrorImpersonateUserDenied:
		o.status = StatusOutOfScope
	case ews.ErrorInvalidExchangeImpersonationHeaderData:
		// With a delegated OAuth token every impersonated request fails so
		// ("…must not exist for this type of OAuth token"); a malformed
		// identifier would fail only its user.
		o.status = StatusError
		o.stop = strings.Contains(strings.ToLower(msg), "oauth token")
	case ews.ErrorNonExistentMailbox, ews.ErrorInvalidSmtpAddress, ews.ErrorInvalidUserPrincipalName,
		ews.ErrorInvalidSid, ews.ErrorInvalidMailbox, ews.ErrorMissingEmailAddress,
		ews.ErrorNameResolutionNoMailbox:
		o.status = StatusNoMailbox
	case ews.ErrorMailboxStoreUnavailable, ews.ErrorMailboxMoveInProgress, ews.ErrorMailboxFailover:
		o.status, o.retry = StatusMailboxUnavailable, true
	case ews.ErrorServerBusy:
		o.status, o.retry, o.gate = StatusThrottled, true, true
	case ews.ErrorExceededConnectionCount:
		o.status, o.retry, o.lower = StatusThrottled, true, true
	default:
		o.status, o.retry = StatusError, code.Transient()
	}
	return o
}

// classifyHTTP maps a non-SOAP HTTP answer.
func classifyHTTP(he *ews.HTTPError) outcome {
	o := outcome{status: StatusError, message: he.Error()}
	switch {
	case he.StatusCode == http.StatusForbidden:
		o.status = StatusBlockedByPolicy
	case he.StatusCode == http.StatusServiceUnavailable, he.StatusCode == http.StatusTooManyRequests:
		o.status, o.retry, o.gate = StatusThrottled, true, true
	default:
		o.retry = he.Transient()
	}
	return o
}

// classifyTransport maps a failure to exchange the request, naming TLS
// problems specifically.
func classifyTransport(tr *ews.TransportError) outcome {
	o := outcome{status: StatusNetworkError, message: tr.Error()}
	var (
		unknownCA   x509.UnknownAuthorityError
		hostname    x509.HostnameError
		invalid     x509.CertificateInvalidError
		verifyErr   *tls.CertificateVerificationError
		recordHdr   tls.RecordHeaderError
		alert       tls.AlertError
		dnsErr      *net.DNSError
		opErr       *net.OpError
		netErr      net.Error
		unknownCAp  *x509.UnknownAuthorityError
		hostnamePtr *x509.HostnameError
	)
	switch {
	case errors.As(tr, &hostname), errors.As(tr, &hostnamePtr):
		o.net = netTLSName
	case errors.As(tr, &unknownCA), errors.As(tr, &unknownCAp):
		o.net = netTLSUntrusted
	case errors.As(tr, &invalid):
		if invalid.Reason == x509.Expired {
			o.net = netTLSExpired
		} else {
			o.net = netTLS
		}
	case errors.As(tr, &verifyErr):
		o.net = netTLS
	case errors.As(tr, &recordHdr), strings.Contains(tr.Error(), "server gave HTTP response to HTTPS client"):
		// net/http turns the TLS record header error into a plain message.
		o.net = netTLSNotTLS
	case errors.As(tr, &alert):
		o.net = netTLS
	case errors.As(tr, &dnsErr):
		o.net = netDNS
		o.retry = !dnsErr.IsNotFound
	case errors.As(tr, &opErr) && opErr.Op == "dial":
		o.net = netConnect
		o.retry = true
	case errors.Is(tr, io.EOF), errors.Is(tr, io.ErrUnexpectedEOF), errors.Is(tr, syscall.ECONNRESET),
		errors.Is(tr, syscall.EPIPE), errors.Is(tr, net.ErrClosed):
		o.net = netDropped
		o.retry = true
	case errors.As(tr, &netErr) && netErr.Timeout():
		o.net = netTimeout
		o.retry = true
	case strings.Contains(tr.Error(), "tls:"):
		o.net = netTLS
	default:
		o.net = netDropped
		o.retry = tr.Transient()
	}
	return o
}

// networkRemediation says what to do about a network failure of kind k
// reaching host on port.
func networkRemediation(k netKind, host, port string) string {
	if port == "" {
		port = "443"
	}
	switch k {
	case netDNS:
		return fmt.Sprintf("The name %s does not resolve: check the EWS URL's host name and this machine's DNS servers (Resolve-DnsName %s).", host, host)
	case netConnect:
		return fmt.Sprintf("No TCP connection to %s: check that the server is up, the port is right, and no firewall or proxy blocks this machine (Test-NetConnection %s -Port %s).", host, host, port)
	case netTLSUntrusted:
		return fmt.Sprintf("TLS: the certificate of %s is not issued by a trusted authority (self-signed or an internal CA). Install a certificate from a trusted CA on the Exchange server, or add the issuing CA to this machine's trust store; do not turn verification off in production.", host)
	case netTLSName:
		return fmt.Sprintf("TLS: the certificate does not name %s. Use the host name the certificate was issued for in the EWS URL (often mail.<domain>), or add %s to the certificate's subject alternative names.", host, host)
	case netTLSExpired:
		return fmt.Sprintf("TLS: the certificate of %s has expired or is not yet valid (also check this machine's clock). Renew it on the Exchange server (Get-ExchangeCertificate, then Enable-ExchangeCertificate -Services IIS).", host)
	case netTLSNotTLS:
		return fmt.Sprintf("TLS: %s does not speak TLS on this port. Use https:// with the server's TLS port (usually 443, not %s), or check for a proxy in between.", host, port)
	case netTLS:
		return fmt.Sprintf("TLS handshake with %s failed: check the server certificate and that the server accepts TLS 1.2 or later.", host)
	case netTimeout:
		return fmt.Sprintf("%s did not answer in time: check the server's load and the network path; check again later.", host)
	case netDropped:
		return fmt.Sprintf("The connection to %s was dropped repeatedly (a load balancer, proxy or IIS reset): check again later; if it persists, check the server's IIS and load balancer logs.", host)
	}
	return fmt.Sprintf("Check the EWS URL and the network path to %s.", host)
}

// faultMessage is the server's explanation in a fault.
func faultMessage(fe *ews.FaultError) string {
	if fe.Message != "" {
		return fe.Message
	}
	return fe.FaultString
}

// authMessage describes a 401 without secrets (the ews error never holds
// one) and without naming ews options: it tells credentials the server
// rejected apart from a 401 where the server never checked any.
func authMessage(ae *ews.AuthError) string {
	var s string
	switch {
	case ae.Scheme == "":
		s = fmt.Sprintf("HTTP 401 to %s: no credentials were sent; the server offers %s", ae.Operation, offeredText(ae.Offered))
	case !credentialsTried(ae):
		s = fmt.Sprintf("HTTP 401 to %s: the server does not accept %s, it offers %s, so no credentials were checked", ae.Operation, ae.Scheme, offeredText(ae.Offered))
	default:
		s = fmt.Sprintf("HTTP 401 to %s: the server rejected the %s credentials", ae.Operation, ae.Scheme)
		if len(ae.Offered) > 0 {
			s += " (it offers " + offeredText(ae.Offered) + ")"
		}
	}
	if ae.Diagnostics != "" {
		s += " (x-ms-diagnostics: " + ae.Diagnostics + ")"
	}
	return s
}

// credentialsTried reports whether the server can have checked credentials
// before answering a 401: some were configured (Scheme is set) and the
// server offers their scheme, or named none at all (then it is unknown, so
// assume it did). When the server does not offer the scheme, nothing it
// checks was sent: the NTLM client starts no handshake with a server that
// offers neither NTLM nor Negotiate, and IIS ignores an Authorization header
// of a scheme that is not enabled, so no failed logon is counted.
func credentialsTried(ae *ews.AuthError) bool {
	switch {
	case ae.Scheme == "":
		return false
	case len(ae.Offered) == 0:
		return true
	case strings.EqualFold(ae.Scheme, "NTLM"):
		return offers(ae.Offered, "NTLM", "Negotiate")
	}
	return offers(ae.Offered, ae.Scheme)
}

// offers reports whether offered holds any of names (case-insensitive).
func offers(offered []string, names ...string) bool {
	for _, o := range offered {
		for _, n := range names {
			if strings.EqualFold(o, n) {
				return true
			}
		}
	}
	return false
}

// offeredText lists the schemes of a WWW-Authenticate offer for a message.
func offeredText(offered []string) string {
	switch len(offered) {
	case 0:
		return "no authentication scheme"
	case 1:
		return "only " + offered[0]
	}
	return strings.Join(offered, ", ")
}
