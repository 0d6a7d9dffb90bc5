package impersonation

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/ews/autodiscover"
	"github.com/sccsync/scc/org"
)

// StepName names one step of a [Diagnosis]. The values are stable short
// words for JSON; [StepName.Title] is the text for people.
type StepName string

// The steps of [Diagnose], in the order they run.
const (
	// StepConfiguration validates the email configuration (org) and the
	// mailbox, and recognises Exchange Online and its EWS retirement.
	StepConfiguration StepName = "configuration"
	// StepAutodiscover finds the EWS URL with Autodiscover and lists each
	// candidate tried, when the configuration asks for discovery
	// (DiscoverEWSURL) or [WithAutodiscover] is given; skipped otherwise.
	StepAutodiscover StepName = "autodiscover"
	// StepDNS resolves the EWS URL's host name.
	StepDNS StepName = "dns"
	// StepTCP opens a TCP connection to the host and port.
	StepTCP StepName = "tcp"
	// StepTLS runs the TLS handshake and checks the certificate: validity
	// period, name, issuer.
	StepTLS StepName = "tls"
	// StepEndpoint sends an unauthenticated SOAP request: a healthy EWS
	// endpoint answers HTTP 401 and names its authentication schemes.
	StepEndpoint StepName = "ews-endpoint"
	// StepAuthSchemes compares the schemes the server offers with the
	// configured auth method.
	StepAuthSchemes StepName = "auth-schemes"
	// StepLogon sends one authenticated request without impersonation:
	// the service account's credentials are accepted or rejected.
	StepLogon StepName = "logon"
	// StepServerVersion reads ServerVersionInfo and names the Exchange
	// release.
	StepServerVersion StepName = "server-version"
	// StepImpersonation gets the mailbox's Inbox while impersonating it.
	StepImpersonation StepName = "impersonation"
	// StepInbox reads the Inbox's items (count).
	StepInbox StepName = "inbox"
	// StepWriteTest creates a test message in Drafts and deletes it
	// (only with [WithWriteTest]).
	StepWriteTest StepName = "write-test"
)

var stepOrder = [...]StepName{
	StepConfiguration, StepAutodiscover, StepDNS, StepTCP, StepTLS, StepEndpoint, StepAuthSchemes,
	StepLogon, StepServerVersion, StepImpersonation, StepInbox, StepWriteTest,
}

// StepNames returns every step, in the order [Diagnose] runs them.
func StepNames() []StepName {
	out := make([]StepName, len(stepOrder))
	copy(out, stepOrder[:])
	return out
}

// Title is the step's name for people, e.g. "TLS certificate".
func (n StepName) Title() string {
	switch n {
	case StepConfiguration:
		return "Configuration"
	case StepAutodiscover:
		return "Autodiscover"
	case StepDNS:
		return "DNS resolution"
	case StepTCP:
		return "TCP connection"
	case StepTLS:
		return "TLS certificate"
	case StepEndpoint:
		return "EWS endpoint"
	case StepAuthSchemes:
		return "Auth schemes"
	case StepLogon:
		return "Service account logon"
	case StepServerVersion:
		return "Exchange version"
	case StepImpersonation:
		return "Impersonation"
	case StepInbox:
		return "Inbox readable"
	case StepWriteTest:
		return "Write test"
	}
	return string(n)
}

// StepStatus is the outcome of one step, and the verdict of a whole
// [Diagnosis].
type StepStatus string

// The outcomes of a step.
const (
	// StepPassed: the step found nothing wrong.
	StepPassed StepStatus = "pass"
	// StepWarning: the step passed, but something needs attention (see
	// Fix); later steps still run.
	StepWarning StepStatus = "warning"
	// StepFailed: the step failed; the diagnosis stopped here and Fix says
	// what to do.
	StepFailed StepStatus = "fail"
	// StepSkipped: the step did not run, because an earlier one failed or
	// it was not requested.
	StepSkipped StepStatus = "skipped"
)

// Mark is the one-character symbol of the status in a text rendering:
// ✓ pass, ! warning, ✗ fail, - skipped.
func (s StepStatus) Mark() string {
	switch s {
	case StepPassed:
		return "✓"
	case StepWarning:
		return "!"
	case StepFailed:
		return "✗"
	}
	return "-"
}

// Step is the outcome of one step of a [Diagnosis].
type Step struct {
	// Name identifies the step.
	Name StepName
	// Status is pass, warning, fail or skipped.
	Status StepStatus
	// Duration is how long the step took (zero when skipped).
	Duration time.Duration
	// Detail says what the step found: addresses, certificate, schemes,
	// the server's answer.
	Detail string
	// Fix says what to do; set for warnings and failures.
	Fix string
	// Code is the EWS response code behind a failure, if any.
	Code ews.ResponseCode
}

// Diagnosis is the outcome of [Diagnose]: Microsoft's "Service Account
// Access" connectivity test for one mailbox. It never holds a secret.
type Diagnosis struct {
	// Endpoint is the EWS URL diagnosed (user information, query and
	// fragment removed).
	Endpoint string
	// ServiceAccount is the logon of the service account, or
	// "application <client id>" for Exchange Online app-only access.
	ServiceAccount string
	// AccessType is the configured Mailbox Access Type.
	AccessType org.AccessType
	// AuthMethod is the authentication used: "NTLM", "Basic", "Bearer",
	// or "" when the diagnosis stopped before choosing.
	AuthMethod string
	// Mailbox is the mailbox diagnosed, as given.
	Mailbox string
	// ServerVersion is the build from ServerVersionInfo, e.g.
	// "15.2.1544.4 (V2017_07_11)", and Product the release it belongs to,
	// e.g. "Exchange 2019"; empty when unknown.
	ServerVersion, Product string
	// ExchangeOnline reports whether the endpoint is Exchange Online (by
	// its URL or by the version it reported).
	ExchangeOnline bool
	// Started is when the diagnosis began; Duration how long it took.
	Started  time.Time
	Duration time.Duration
	// Steps has one entry per [StepName], in order.
	Steps []Step
}

// Verdict is [StepFailed] when a step failed, [StepWarning] when a step
// warned, and [StepPassed] otherwise.
func (d *Diagnosis) Verdict() StepStatus {
	v := StepPassed
	for _, s := range d.Steps {
		switch s.Status {
		case StepFailed:
			return StepFailed
		case StepWarning:
			v = StepWarning
		}
	}
	return v
}

// OK reports whether no step failed (warnings allowed).
func (d *Diagnosis) OK() bool { return d.Verdict() != StepFailed }

// Failed returns the step that failed, if one did.
func (d *Diagnosis) Failed() (Step, bool) {
	for _, s := range d.Steps {
		if s.Status == StepFailed {
			return s, true
		}
	}
	return Step{}, false
}

// Fix is the first thing to do: the fix of the failed step, or else of the
// first warning; "" when every step passed.
func (d *Diagnosis) Fix() string {
	if s, ok := d.Failed(); ok {
		return s.Fix
	}
	for _, s := range d.Steps {
		if s.Status == StepWarning && s.Fix != "" {
			return s.Fix
		}
	}
	return ""
}

// Step returns the step named n.
func (d *Diagnosis) Step(n StepName) (Step, bool) {
	for _, s := range d.Steps {
		if s.Name == n {
			return s, true
		}
	}
	return Step{}, false
}

// Resolver resolves host names for the DNS step; *net.Resolver is one.
// Tests use it to map names to loopback addresses.
type Resolver interface {
	LookupHost(ctx context.Context, host string) (addrs []string, err error)
}

// Dialer opens TCP connections for the TCP and TLS steps; *net.Dialer is
// one.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// DefaultStepTimeout bounds each network step of [Diagnose] unless
// [WithStepTimeout] says otherwise.
const DefaultStepTimeout = 30 * time.Second

type diagnoseSettings struct {
	common
	writeTest          bool
	resolver           Resolver
	dialer             Dialer
	rootCAs            *x509.CertPool
	insecureSkipVerify bool
	stepTimeout        time.Duration
	now                func() time.Time
	autodiscover       bool
	autodiscoverOpts   []autodiscover.Option
}

// WithWriteTest adds the write test, as Microsoft's connectivity test
// does: a test message is created in the mailbox's Drafts folder
// (CreateItem, SaveOnly) and hard-deleted. The message is never left
// behind knowingly: it is deleted even when ctx ends, and a failed delete
// fails the step, naming the message's subject.
func WithWriteTest() Option {
	return diagnoseOption{"WithWriteTest", func(s *diagnoseSettings) error { s.writeTest = true; return nil }}
}

// WithResolver resolves the EWS host with r instead of the system resolver,
// for the DNS step and for the diagnosis's own HTTP requests (unless
// [WithHTTPClient] supplies the client).
func WithResolver(r Resolver) Option {
	return diagnoseOption{"WithResolver", func(s *diagnoseSettings) error {
		if r == nil {
			return errors.New("impersonation: WithResolver: resolver is nil")
		}
		s.resolver = r
		return nil
	}}
}

// WithDialer opens connections with d, for the TCP and TLS steps and for
// the diagnosis's own HTTP requests (unless [WithHTTPClient] supplies the
// client).
func WithDialer(d Dialer) Option {
	return diagnoseOption{"WithDialer", func(s *diagnoseSettings) error {
		if d == nil {
			return errors.New("impersonation: WithDialer: dialer is nil")
		}
		s.dialer = d
		return nil
	}}
}

// WithRootCAs trusts the certificate authorities in pool instead of the
// system's, for the TLS step and the EWS requests (unless [WithHTTPClient]
// supplies the client).
func WithRootCAs(pool *x509.CertPool) Option {
	return diagnoseOption{"WithRootCAs", func(s *diagnoseSettings) error {
		if pool == nil {
			return errors.New("impersonation: WithRootCAs: pool is nil")
		}
		s.rootCAs = pool
		return nil
	}}
}

// WithInsecureSkipVerify lets the diagnosis go on past a certificate
// problem: the TLS step still checks and names every problem, as a warning
// instead of a failure, and the EWS requests skip verification. For
// looking behind a broken certificate only; never for production sync.
func WithInsecureSkipVerify() Option {
	return diagnoseOption{"WithInsecureSkipVerify", func(s *diagnoseSettings) error { s.insecureSkipVerify = true; return nil }}
}

// WithStepTimeout bounds each network step (default [DefaultStepTimeout]);
// a step that takes longer fails as a timeout.
func WithStepTimeout(d time.Duration) Option {
	return diagnoseOption{"WithStepTimeout", func(s *diagnoseSettings) error {
		if d <= 0 {
			return fmt.Errorf("impersonation: WithStepTimeout(%s): want a positive duration", d)
		}
		s.stepTimeout = d
		return nil
	}}
}

// withDiagnoseClock replaces time.Now for the dates the diagnosis reasons
// about (certificate validity, Exchange Online retirement); tests only.
func withDiagnoseClock(now func() time.Time) Option {
	return diagnoseOption{"withDiagnoseClock", func(s *diagnoseSettings) error { s.now = now; return nil }}
}

// Diagnose runs Microsoft's "Service Account Access" connectivity test for
// one mailbox with cfg's service account, step by step (see [StepNames]):
//
//  1. the configuration (cfg.Validate, the mailbox address, Exchange Online
//     and its EWS retirement: password impersonation is impossible there
//     since 2025; EWS is blocked by default from October 2026 unless the
//     application is allow-listed, and switched off on 1 April 2027);
//  2. DNS resolution of the host;
//  3. a TCP connection to host and port;
//     (when the EWS requests take an HTTP proxy, as Check's do with
//     HTTPS_PROXY or the proxy of the [WithHTTPClient] transport, steps 2
//     and 3 resolve and reach the proxy, and step 4 runs through its
//     CONNECT tunnel; their details name the proxy)
//  4. the TLS handshake and certificate (expired or not yet valid, wrong
//     name, untrusted issuer, each named with its fix); a warning for
//     http://, which is for test servers only;
//  5. an unauthenticated SOAP request, which a healthy EWS endpoint answers
//     with 401 and its authentication schemes (an HTML page, a 404 or a
//     redirect mean the URL is not an EWS endpoint);
//  6. the offered schemes against the configured auth method;
//  7. one authenticated request without impersonation: the credentials are
//     accepted or rejected (a wrong password costs exactly one failed
//     logon: nothing after it is sent);
//  8. the Exchange release from ServerVersionInfo;
//  9. impersonation of the mailbox (GetFolder of its Inbox with
//     ExchangeImpersonation and X-AnchorMailbox);
//  10. the Inbox's items (FindItem);
//  11. with [WithWriteTest], a test message created in Drafts and deleted.
//
// It stops at the first failed step and marks the rest skipped. mailbox is
// the mailbox's primary SMTP address (impersonated as PrimarySmtpAddress;
// when Exchange knows it only as a secondary address, the fix says so) or
// its SID.
//
// A failed step is not an error: the error is non-nil only for unusable
// options (with a nil Diagnosis) or when ctx ends (with the partial
// diagnosis, the running step failed as cancelled; the error starts
// "impersonation: diagnose:" and matches ctx's error and cause with
// errors.Is). Failures are retried
// only when transient (throttling, a dropped connection), never after a
// 401.
func Diagnose(ctx context.Context, cfg org.EmailConfiguration, mailbox string, opts ...Option) (*Diagnosis, error) {
	s := &diagnoseSettings{stepTimeout: DefaultStepTimeout, now: time.Now}
	var errs []error
	for i, o := range opts {
		if o == nil {
			errs = append(errs, fmt.Errorf("impersonation: Diagnose: option %d is nil", i))
			continue
		}
		if err := o.applyDiagnose(s); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if s.resolver == nil {
		s.resolver = net.DefaultResolver
	}
	if s.dialer == nil {
		s.dialer = &net.Dialer{Timeout: s.stepTimeout, KeepAlive: 30 * time.Second}
	}
	g := newDiagnoser(s, cfg, mailbox)
	defer g.close()
	return g.run(ctx)
}

// diagnoser is one diagnosis run.
type diagnoser struct {
	s       *diagnoseSettings
	cfg     org.EmailConfiguration
	mailbox string
	d       *Diagnosis

	h        hints
	u        *url.URL
	host     string
	port     string
	sid      ews.ConnectingSID
	anchor   string
	addrs    []string
	proxy    *url.URL // the HTTP proxy the EWS requests take, or nil
	conn     net.Conn
	offered  []string
	method   org.AuthMethod
	hc       *http.Client
	client   *ews.Client // authenticated
	view     *ews.Client // authenticated, impersonating the mailbox
	version  *ews.ServerVersionInfo
	unread   int
	haveRead bool
}

func newDiagnoser(s *diagnoseSettings, cfg org.EmailConfiguration, mailbox string) *diagnoser {
	g := &diagnoser{s: s, cfg: cfg, mailbox: strings.TrimSpace(mailbox), method: cfg.AuthMethod}
	g.h = hints{
		serviceAccount: cfg.AccountLogon,
		exchangeOnline: org.IsExchangeOnline(cfg.EWSURL),
		appOnly:        cfg.AccessType == org.OnlineAppOnly,
		address:        g.mailbox,
	}
	if g.h.appOnly {
		g.h.appID = strings.TrimSpace(cfg.ClientID)
		g.h.serviceAccount = "application " + g.h.appID
	}
	g.d = &Diagnosis{
		Endpoint:       redactURL(cfg.EWSURL),
		ServiceAccount: g.h.serviceAccount,
		AccessType:     cfg.AccessType,
		Mailbox:        g.mailbox,
		ExchangeOnline: g.h.exchangeOnline,
	}
	return g
}

// redactURL is a URL as a report or diagnosis shows and stores it: scheme,
// host and path only. User information, the query string and the fragment
// are removed, since any of them may carry a password, a token or a
// signature; an unparsable URL is not echoed at all.
func redactURL(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	out := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath, Opaque: u.Opaque}
	if out.Opaque != "" {
		// "host:port/path" without a scheme parses as an opaque URL whose
		// opaque part may hold anything after the first colon.
		return "(invalid URL)"
	}
	return out.String()
}

// stepFunc runs one step with a context bounded by the step timeout.
type stepFunc func(ctx context.Context) Step

func (g *diagnoser) run(ctx context.Context) (*Diagnosis, error) {
	g.d.Started = g.s.now()
	begin := time.Now()
	steps := []struct {
		name StepName
		fn   stepFunc
	}{
		{StepConfiguration, g.stepConfiguration},
		{StepAutodiscover, g.stepAutodiscover},
		{StepDNS, g.stepDNS},
		{StepTCP, g.stepTCP},
		{StepTLS, g.stepTLS},
		{StepEndpoint, g.stepEndpoint},
		{StepAuthSchemes, g.stepAuthSchemes},
		{StepLogon, g.stepLogon},
		{StepServerVersion, g.stepServerVersion},
		{StepImpersonation, g.stepImpersonation},
		{StepInbox, g.stepInbox},
		{StepWriteTest, g.stepWriteTest},
	}
	var stopped *Step
	var cause error
	for _, st := range steps {
		if stopped != nil {
			detail := fmt.Sprintf("not run: %s failed", stopped.Name.Title())
			if cause != nil {
				detail = "not run: the diagnosis was cancelled"
			}
			g.d.Steps = append(g.d.Steps, Step{Name: st.name, Status: StepSkipped, Detail: detail})
			continue
		}
		if err := ctx.Err(); err != nil {
			cause = context.Cause(ctx)
			step := Step{Name: st.name, Status: StepFailed, Detail: fmt.Sprintf("cancelled before this step: %v", cause),
				Fix: "Run the diagnosis again."}
			g.d.Steps = append(g.d.Steps, step)
			stopped = &g.d.Steps[len(g.d.Steps)-1]
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, g.s.stepTimeout)
		start := time.Now()
		step := st.fn(sctx)
		cancel()
		step.Name = st.name
		if step.Status != StepSkipped {
			step.Duration = time.Since(start)
		}
		if step.Status == StepFailed && ctx.Err() != nil {
			cause = context.Cause(ctx)
			step.Detail = fmt.Sprintf("cancelled: %v", cause)
			step.Fix = "Run the diagnosis again."
			step.Code = ""
		}
		g.d.Steps = append(g.d.Steps, step)
		if step.Status == StepFailed {
			stopped = &g.d.Steps[len(g.d.Steps)-1]
		}
	}
	g.d.Duration = time.Since(begin)
	if cause != nil {
		return g.d, cancelledError(stopped.Name, cause, ctx.Err())
	}
	return g.d, nil
}

// cancelledError is Diagnose's error when ctx ended during step: it names
// the package and the step, and matches both the context's cause and its
// error (context.Canceled or context.DeadlineExceeded) with errors.Is.
func cancelledError(step StepName, cause, ctxErr error) error {
	if ctxErr == nil || errors.Is(cause, ctxErr) {
		return fmt.Errorf("impersonation: diagnose: cancelled during the %s step; run the diagnosis again: %w", step.Title(), cause)
	}
	return fmt.Errorf("impersonation: diagnose: cancelled during the %s step; run the diagnosis again: %w (%w)", step.Title(), cause, ctxErr)
}

// close ends the TLS step's connection and the authenticated client's
// keep-alive connections.
func (g *diagnoser) close() {
	g.closeConn()
	if g.client != nil {
		g.client.CloseIdleConnections()
	}
}

func (g *diagnoser) closeConn() {
	if g.conn != nil {
		g.conn.Close()
		g.conn = nil
	}
}

func stepPass(detail string) Step { return Step{Status: StepPassed, Detail: detail} }

func stepWarn(detail, fix string) Step { return Step{Status: StepWarning, Detail: detail, Fix: fix} }

func stepFail(detail, fix string) Step { return Step{Status: StepFailed, Detail: detail, Fix: fix} }
