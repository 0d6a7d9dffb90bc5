package impersonation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/ews/autodiscover"
	"github.com/sccsync/scc/org"
)

// DefaultConcurrency is the number of impersonated requests a check keeps
// in flight per service account unless [WithConcurrency] says otherwise;
// Microsoft's EWS guidance suggests staying around 10.
const DefaultConcurrency = 10

// MaxConcurrency is the highest concurrency [WithConcurrency] accepts: the
// default EWSMaxConcurrency throttling limit of Exchange 2013 and later and
// of Exchange Online (27 concurrent requests per account). A check lowers its
// concurrency by itself when the server answers
// ErrorExceededConnectionCount.
const MaxConcurrency = 27

// DefaultRequestTimeout bounds each EWS request of a check unless
// [WithRequestTimeout] says otherwise.
const DefaultRequestTimeout = 2 * time.Minute

// RetryBudget bounds how hard a check tries before it reports a user as
// throttled or unavailable. The zero value of a field means its default.
type RetryBudget struct {
	// MaxAttempts is the number of requests per user for the read probe,
	// the first one included (default 5). Transient failures (throttling,
	// an unavailable or moving mailbox, a dropped connection) are retried
	// until then.
	MaxAttempts int
	// MaxWait is the total time the whole run may spend paused because
	// Exchange asked the service account to back off (default 5 minutes;
	// Exchange Online back-offs of about 5 minutes are normal). A back-off
	// that does not fit is still honoured, but the users that would have
	// to wait for it are reported as throttled instead of the check
	// hanging.
	MaxWait time.Duration
	// BaseDelay is the first delay before repeating a transient failure for
	// which the server gave no back-off (default 500ms); it doubles per
	// attempt, with jitter, up to 30 seconds.
	BaseDelay time.Duration
	// MaxConsecutiveTimeouts is the number of requests in a row, across
	// all workers, that may get no answer within the request timeout
	// before the check concludes that Exchange stopped answering and stops
	// (default twice the concurrency, at least 2): the users not yet
	// checked are then not-checked with that reason, and the StopError
	// matches [ErrNotAnswering]. Any answer from the server resets the
	// count. With the defaults a stalled server ends a check after about
	// two request timeouts instead of users / concurrency × attempts ×
	// timeout.
	MaxConsecutiveTimeouts int
}

// Defaults of RetryBudget.
const (
	defaultMaxAttempts = 5
	defaultMaxWait     = 5 * time.Minute
	defaultBaseDelay   = 500 * time.Millisecond
	maxRetryDelay      = 30 * time.Second
)

func (b RetryBudget) withDefaults() RetryBudget {
	if b.MaxAttempts == 0 {
		b.MaxAttempts = defaultMaxAttempts
	}
	if b.MaxWait == 0 {
		b.MaxWait = defaultMaxWait
	}
	if b.BaseDelay == 0 {
		b.BaseDelay = defaultBaseDelay
	}
	return b
}

// Progress is reported while a check runs (see [WithProgress]).
type Progress struct {
	// Done is the number of users with a result so far; Total the number
	// of users.
	Done, Total int
	// Counts is the number of results per status so far (a copy the
	// callback may keep).
	Counts Counts
	// Elapsed is the time since the check started.
	Elapsed time.Duration
	// Last is the result that completed most recently (zero in the final
	// report of users that were not checked).
	Last Result
	// Concurrency is the current number of requests allowed in flight; it
	// drops when Exchange answers ErrorExceededConnectionCount.
	Concurrency int
}

// Option configures [Check], [CheckUsers], [Activate], [Renew],
// [Diagnose] and [NewWatcher]: one option type for every entry point.
// [WithHTTPClient], [WithEWSOptions], [WithAuthority] and [WithBearerToken]
// apply to all of them; the others belong to the check (Check, CheckUsers,
// Activate, Renew), to Diagnose or to the watcher (NewWatcher lists the
// check options it takes too), and passing one to another entry point is an
// error naming the option. Options return an error for unusable values,
// reported by the function.
type Option interface {
	applyCheck(*settings) error
	applyDiagnose(*diagnoseSettings) error
	applyWatch(*watchSettings) error
}

// checkOption is an Option of the check only.
type checkOption struct {
	name string
	f    func(*settings) error
}

func (o checkOption) applyCheck(s *settings) error { return o.f(s) }
func (o checkOption) applyWatch(s *watchSettings) error {
	if !watchTakes[o.name] {
		return fmt.Errorf("impersonation: %s is an option of Check, CheckUsers, Activate and Renew, not of NewWatcher", o.name)
	}
	return o.f(&s.settings)
}
func (o checkOption) applyDiagnose(*diagnoseSettings) error {
	return fmt.Errorf("impersonation: %s is an option of Check, CheckUsers, Activate and Renew, not of Diagnose", o.name)
}

// diagnoseOption is an Option of Diagnose only.
type diagnoseOption struct {
	name string
	f    func(*diagnoseSettings) error
}

func (o diagnoseOption) applyDiagnose(s *diagnoseSettings) error { return o.f(s) }
func (o diagnoseOption) applyWatch(*watchSettings) error {
	return fmt.Errorf("impersonation: %s is an option of Diagnose, not of NewWatcher", o.name)
}
func (o diagnoseOption) applyCheck(*settings) error {
	return fmt.Errorf("impersonation: %s is an option of Diagnose, not of Check, CheckUsers, Activate or Renew", o.name)
}

// commonOption is an Option of every entry point: it fills the part of
// the settings they share.
type commonOption func(*common) error

func (o commonOption) applyCheck(s *settings) error            { return o(&s.common) }
func (o commonOption) applyDiagnose(s *diagnoseSettings) error { return o(&s.common) }
func (o commonOption) applyWatch(s *watchSettings) error       { return o(&s.common) }

// common is what every entry point takes: how to reach Exchange and, for
// app-only access, Microsoft Entra ID.
type common struct {
	httpClient *http.Client
	ewsOptions []ews.Option
	authority  string
	tokens     func(context.Context) (string, error)
}

// settings is what the options fill.
type settings struct {
	common
	concurrency int
	reqTimeout  time.Duration
	writeProbe  bool
	progress    func(Progress)
	budget      RetryBudget
	logger      *slog.Logger
	now         func() time.Time
	grouping    bool
	groupingOpt []autodiscover.Option
	// plan and orgID: provision the users that pass (Activate, Renew).
	plan  *org.ProvisioningPlan
	orgID string
	// addresses: the users Activate, Renew and Deactivate act on (nil:
	// their default).
	addresses []string
	// remove, removeContent: Deactivate removes the provisioning (and
	// folders that hold items).
	remove, removeContent bool
	// categoryCheck: re-read the category list of provisioned mailboxes.
	categoryCheck bool
}

func newSettings(opts []Option) (*settings, error) {
	s := &settings{
		concurrency: DefaultConcurrency,
		reqTimeout:  DefaultRequestTimeout,
		budget:      RetryBudget{}.withDefaults(),
		now:         time.Now,
	}
	var errs []error
	for i, opt := range opts {
		if opt == nil {
			errs = append(errs, fmt.Errorf("impersonation: option %d is nil", i))
			continue
		}
		if err := opt.applyCheck(s); err != nil {
			errs = append(errs, err)
		}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s, errors.Join(errs...)
}

// WithGroupingInformation makes the check ask SOAP Autodiscover for every
// user's GroupingInformation (one Discover for the first user, then
// GetUserSettings in batches of 100 at the endpoint that answered) and
// record it in each [Result] and, where it came from, in
// [Report.Autodiscover]. An Autodiscover failure is recorded there and does
// not stop the check. opts configure the Autodiscover client (see
// [NewAutodiscoverClient]).
func WithGroupingInformation(opts ...autodiscover.Option) Option {
	return checkOption{"WithGroupingInformation", func(s *settings) error {
		for i, o := range opts {
			if o == nil {
				return fmt.Errorf("impersonation: WithGroupingInformation: option %d is nil", i)
			}
		}
		s.grouping = true
		s.groupingOpt = append(s.groupingOpt, opts...)
		return nil
	}}
}

// WithConcurrency sets how many impersonated requests are in flight at once
// for the service account: 1 to [MaxConcurrency] (default
// [DefaultConcurrency]). The check lowers it by itself if Exchange answers
// ErrorExceededConnectionCount.
func WithConcurrency(n int) Option {
	return checkOption{"WithConcurrency", func(s *settings) error {
		if n < 1 || n > MaxConcurrency {
			return fmt.Errorf("impersonation: WithConcurrency(%d): want 1 to %d (Exchange's default EWSMaxConcurrency is %d per account)", n, MaxConcurrency, MaxConcurrency)
		}
		s.concurrency = n
		return nil
	}}
}

// WithRequestTimeout bounds each EWS request (default
// [DefaultRequestTimeout]), whatever the HTTP client's own timeout, so that
// a server that stops answering cannot hold a check. A request that takes
// longer fails as a network timeout and is retried within the
// [RetryBudget].
func WithRequestTimeout(d time.Duration) Option {
	return checkOption{"WithRequestTimeout", func(s *settings) error {
		if d <= 0 {
			return fmt.Errorf("impersonation: WithRequestTimeout(%s): want a positive duration", d)
		}
		s.reqTimeout = d
		return nil
	}}
}

// WithWriteProbe adds a write probe per user that passed the read probe, as
// Microsoft's connectivity test does: create a test message in the user's
// Drafts folder (CreateItem, SaveOnly) and hard-delete it. A created item is
// never left behind knowingly; if it cannot be deleted, the result says so
// ([WriteProbeItemLeft]).
func WithWriteProbe() Option {
	return checkOption{"WithWriteProbe", func(s *settings) error { s.writeProbe = true; return nil }}
}

// WithProgress calls f after every user's result, and once more at the end
// if users were marked not checked. Calls come from one goroutine, one at a
// time; a slow f slows the check down. If f panics, the check stops and
// the panic is raised again on the caller's goroutine.
func WithProgress(f func(Progress)) Option {
	return checkOption{"WithProgress", func(s *settings) error {
		if f == nil {
			return errors.New("impersonation: WithProgress: func is nil")
		}
		s.progress = f
		return nil
	}}
}

// WithRetryBudget sets the retry budget; zero fields keep their defaults.
func WithRetryBudget(b RetryBudget) Option {
	return checkOption{"WithRetryBudget", func(s *settings) error {
		if b.MaxAttempts < 0 || b.MaxWait < 0 || b.BaseDelay < 0 || b.MaxConsecutiveTimeouts < 0 {
			return fmt.Errorf("impersonation: WithRetryBudget: negative value in %+v", b)
		}
		s.budget = b.withDefaults()
		return nil
	}}
}

// WithEWSOptions adds options for the EWS client that every entry point
// builds from the email configuration ([NewEWSClient]), applied after the
// options derived from the configuration: a wire trace (ews.WithWireTrace),
// a user agent, a response size limit. Not for the HTTP client (use
// [WithHTTPClient], which Diagnose's TLS step and the token requests see
// too) nor for credentials: the configuration's are used (Account Logon and
// Password, or the app-only Tenant ID, Client ID and secret or
// certificate; see [WithBearerToken] to supply tokens yourself), and an
// auth option here is an error (two auth methods), and so is an
// ews.WithHTTPClient when [WithHTTPClient] is given too, or in Diagnose,
// which always hands the EWS client its own (two HTTP clients). Diagnose
// does not use them for its unauthenticated endpoint probe.
func WithEWSOptions(opts ...ews.Option) Option {
	return commonOption(func(c *common) error {
		for i, opt := range opts {
			if opt == nil {
				return fmt.Errorf("impersonation: WithEWSOptions: option %d is nil", i)
			}
		}
		c.ewsOptions = append(c.ewsOptions, opts...)
		return nil
	})
}

// WithHTTPClient sends every request through hc: the EWS requests of a
// check or a diagnosis and the token requests to Microsoft Entra ID for
// app-only access (which never follow a redirect). Diagnose's TLS step
// trusts what hc's *http.Transport trusts (its TLSClientConfig.RootCAs) and
// its network steps take hc's proxy. For example the Client() of a test
// server. It is the one way to hand the library an HTTP client; without it
// Check uses Go's default transport (which honours HTTPS_PROXY) and
// Diagnose one that resolves and dials as its own steps do.
func WithHTTPClient(hc *http.Client) Option {
	return commonOption(func(c *common) error {
		if hc == nil {
			return errors.New("impersonation: WithHTTPClient: client is nil")
		}
		c.httpClient = hc
		return nil
	})
}

// WithAuthority sets the Microsoft Entra ID authority that app-only
// access (org.OnlineAppOnly) gets its tokens from (default
// [DefaultAuthority]; sovereign clouds have their own, such as
// https://login.microsoftonline.us). It must be https://.
func WithAuthority(authority string) Option {
	return commonOption(func(c *common) error {
		if _, err := tokenEndpoint(authority, "tenant"); err != nil {
			return fmt.Errorf("impersonation: WithAuthority: %w", err)
		}
		c.authority = authority
		return nil
	})
}

// WithBearerToken supplies the access tokens of app-only access yourself
// (a managed identity, a token broker, golang.org/x/oauth2), instead of
// the [ClientCredentials] every entry point otherwise builds from the
// configuration's Tenant ID, Client ID and secret or certificate. token
// returns the bare access token; it is called for every request and must
// cache, and be safe for concurrent use.
func WithBearerToken(token func(ctx context.Context) (string, error)) Option {
	return commonOption(func(c *common) error {
		if token == nil {
			return errors.New("impersonation: WithBearerToken: token function is nil")
		}
		c.tokens = token
		return nil
	})
}

// authOptions are the EWS options for cfg after the transport: the
// app-only token source (the caller's, or client credentials from cfg),
// then the caller's EWS options.
// tokenHC is the HTTP client of the token requests (nil: a default one).
func (c *common) authOptions(cfg org.EmailConfiguration, tokenHC *http.Client) ([]ews.Option, error) {
	var eo []ews.Option
	if cfg.AccessType == org.OnlineAppOnly {
		tokens := c.tokens
		if tokens == nil {
			cc, err := NewClientCredentials(cfg, c.authority, tokenHC)
			if err != nil {
				return nil, err
			}
			tokens = cc.Token
		}
		eo = append(eo, ews.WithBearerToken(tokens))
	}
	return append(eo, c.ewsOptions...), nil
}

// tokenHTTPClient is the client of the token requests: the caller's, with
// a timeout when it has none.
func (c *common) tokenHTTPClient() *http.Client {
	if c.httpClient == nil {
		return nil // NewClientCredentials' default
	}
	hc := *c.httpClient
	if hc.Timeout == 0 {
		hc.Timeout = 30 * time.Second
	}
	return &hc
}

// WithLogger makes the check log to l: the preflight, back-offs, stops and
// (at debug level) every user's result. Silent by default. No secret is
// ever logged.
func WithLogger(l *slog.Logger) Option {
	return checkOption{"WithLogger", func(s *settings) error {
		if l == nil {
			return errors.New("impersonation: WithLogger: logger is nil")
		}
		s.logger = l
		return nil
	}}
}

// WithUsers limits [Activate], [Renew] and [Deactivate] to the users of
// the organization with these primary SMTP addresses (compared as
// org.AddressKey compares them); without it, Activate checks every user,
// Renew those that need it and Deactivate every user activation touched.
// Addresses that are no user of the organization are listed in the
// report (DeactivationReport.Unknown; Activate and Renew skip them).
// Check and CheckUsers check the users they are given and ignore it.
func WithUsers(addresses ...string) Option {
	return checkOption{"WithUsers", func(s *settings) error {
		if len(addresses) == 0 {
			return errors.New("impersonation: WithUsers: no address; pass the primary SMTP addresses of the users to act on")
		}
		for i, a := range addresses {
			if org.AddressKey(a) == "" {
				return fmt.Errorf("impersonation: WithUsers: address %d (%q) is empty or not an address", i, a)
			}
		}
		s.addresses = append(s.addresses, addresses...)
		return nil
	}}
}

// WithRemoveProvisioning makes [Deactivate] remove what activation added
// to each deactivated mailbox: the folders of the plan that carry this
// organization's marker and are empty (no items, no subfolders;
// hard-deleted, as nothing in them can be lost), and the plan's
// categories from the master category list. A folder that holds items is
// kept unless [WithRemoveContent] is given too; a folder without the
// marker is never removed. Only Deactivate takes it.
func WithRemoveProvisioning() Option {
	return checkOption{"WithRemoveProvisioning", func(s *settings) error { s.remove = true; return nil }}
}

// WithRemoveContent makes [Deactivate] remove the provisioned folders
// that hold items too (it implies [WithRemoveProvisioning]). They are
// moved to the user's Deleted Items with their items (DeleteFolder
// MoveToDeletedItems), not hard-deleted: the user can still restore them
// until Deleted Items is emptied, and then from Recoverable Items for the
// mailbox's retention period. Only Deactivate takes it.
func WithRemoveContent() Option {
	return checkOption{"WithRemoveContent", func(s *settings) error { s.remove, s.removeContent = true, true; return nil }}
}

// WithCategoryCheck makes [Activate] re-read the master category list of
// every mailbox it provisions, also when the user's record says the
// plan's categories are there, and put back those the user deleted in
// Outlook: one GetUserConfiguration more per user (and a write where one
// is missing). Without it a second Activate verifies a mailbox with one
// request, and a deleted category comes back on the next [Renew] (which
// always re-reads the list) or when the plan's categories change.
func WithCategoryCheck() Option {
	return checkOption{"WithCategoryCheck", func(s *settings) error { s.categoryCheck = true; return nil }}
}

// withClock replaces time.Now (tests of Activate's timestamps).
func withClock(now func() time.Time) Option {
	return checkOption{"withClock", func(s *settings) error { s.now = now; return nil }}
}

// withProvisioning provisions each user that passes the check with plan,
// marking the folders with orgID (Activate and Renew pass it).
func withProvisioning(orgID string, plan *org.ProvisioningPlan) Option {
	return checkOption{"withProvisioning", func(s *settings) error { s.plan, s.orgID = plan, orgID; return nil }}
}
