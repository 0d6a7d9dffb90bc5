package impersonation

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sccsync/scc/ews"
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

// Option configures [Check], [CheckUsers], [Activate] and [Renew]. Options
// return an error for unusable values, reported by the function.
// [WithEWSOptions] is both an Option and a [DiagnoseOption].
type Option interface {
	applyCheck(*settings) error
}

// checkOption is an Option that only Check understands.
type checkOption func(*settings) error

func (f checkOption) applyCheck(s *settings) error { return f(s) }

// settings is what the options fill.
type settings struct {
	concurrency int
	reqTimeout  time.Duration
	writeProbe  bool
	progress    func(Progress)
	budget      RetryBudget
	ewsOptions  []ews.Option
	logger      *slog.Logger
	now         func() time.Time
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

// WithConcurrency sets how many impersonated requests are in flight at once
// for the service account: 1 to [MaxConcurrency] (default
// [DefaultConcurrency]). The check lowers it by itself if Exchange answers
// ErrorExceededConnectionCount.
func WithConcurrency(n int) Option {
	return checkOption(func(s *settings) error {
		if n < 1 || n > MaxConcurrency {
			return fmt.Errorf("impersonation: WithConcurrency(%d): want 1 to %d (Exchange's default EWSMaxConcurrency is %d per account)", n, MaxConcurrency, MaxConcurrency)
		}
		s.concurrency = n
		return nil
	})
}

// WithRequestTimeout bounds each EWS request (default
// [DefaultRequestTimeout]), whatever the HTTP client's own timeout, so that
// a server that stops answering cannot hold a check. A request that takes
// longer fails as a network timeout and is retried within the
// [RetryBudget].
func WithRequestTimeout(d time.Duration) Option {
	return checkOption(func(s *settings) error {
		if d <= 0 {
			return fmt.Errorf("impersonation: WithRequestTimeout(%s): want a positive duration", d)
		}
		s.reqTimeout = d
		return nil
	})
}

// WithWriteProbe adds a write probe per user that passed the read probe, as
// Microsoft's connectivity test does: create a test message in the user's
// Drafts folder (CreateItem, SaveOnly) and hard-delete it. A created item is
// never left behind knowingly; if it cannot be deleted, the result says so
// ([WriteProbeItemLeft]).
func WithWriteProbe() Option {
	return checkOption(func(s *settings) error { s.writeProbe = true; return nil })
}

// WithProgress calls f after every user's result, and once more at the end
// if users were marked not checked. Calls come from one goroutine, one at a
// time; a slow f slows the check down. If f panics, the check stops and
// the panic is raised again on the caller's goroutine.
func WithProgress(f func(Progress)) Option {
	return checkOption(func(s *settings) error {
		if f == nil {
			return errors.New("impersonation: WithProgress: func is nil")
		}
		s.progress = f
		return nil
	})
}

// WithRetryBudget sets the retry budget; zero fields keep their defaults.
func WithRetryBudget(b RetryBudget) Option {
	return checkOption(func(s *settings) error {
		if b.MaxAttempts < 0 || b.MaxWait < 0 || b.BaseDelay < 0 || b.MaxConsecutiveTimeouts < 0 {
			return fmt.Errorf("impersonation: WithRetryBudget: negative value in %+v", b)
		}
		s.budget = b.withDefaults()
		return nil
	})
}

// EWSOptions are options for the EWS client that a check or a diagnosis
// builds from the email configuration ([NewEWSClient]), applied after the
// options derived from the configuration. Made by [WithEWSOptions], it is
// both an [Option] and a [DiagnoseOption].
type EWSOptions []ews.Option

// WithEWSOptions adds options for the EWS client of [Check] (and
// [CheckUsers], [Activate], [Renew]) or [Diagnose]: for example
// ews.WithHTTPClient(server.Client()) for a test server's certificate (for
// Diagnose prefer [WithHTTPClient], which its TLS step also sees), a wire
// trace, or a bearer token source for Exchange Online app-only access
// (required there: the configuration's credentials are not turned into
// tokens; see [ClientCredentials]). For Microsoft Exchange Impersonation the
// configuration's Account Logon and Password are used, and an auth option
// here is an error (two auth methods). Diagnose does not use them for its
// unauthenticated endpoint probe.
func WithEWSOptions(opts ...ews.Option) EWSOptions { return EWSOptions(opts) }

func (o EWSOptions) check() error {
	for i, opt := range o {
		if opt == nil {
			return fmt.Errorf("impersonation: WithEWSOptions: option %d is nil", i)
		}
	}
	return nil
}

func (o EWSOptions) applyCheck(s *settings) error {
	if err := o.check(); err != nil {
		return err
	}
	s.ewsOptions = append(s.ewsOptions, o...)
	return nil
}

func (o EWSOptions) applyDiagnose(s *diagnoseSettings) error {
	if err := o.check(); err != nil {
		return err
	}
	s.ewsOptions = append(s.ewsOptions, o...)
	return nil
}

// WithLogger makes the check log to l: the preflight, back-offs, stops and
// (at debug level) every user's result. Silent by default. No secret is
// ever logged.
func WithLogger(l *slog.Logger) Option {
	return checkOption(func(s *settings) error {
		if l == nil {
			return errors.New("impersonation: WithLogger: logger is nil")
		}
		s.logger = l
		return nil
	})
}

// withClock replaces time.Now (tests of Activate's timestamps).
func withClock(now func() time.Time) Option {
	return checkOption(func(s *settings) error { s.now = now; return nil })
}
