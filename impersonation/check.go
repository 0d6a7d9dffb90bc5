package impersonation

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// ErrDirectLogon is returned (wrapped in a [*StopError]) when the
// configuration's Mailbox Access Type is Microsoft Exchange Direct Logon:
// each user logs on with their own credentials, so there is no service
// account whose impersonated access could be checked in bulk.
var ErrDirectLogon = errors.New("impersonation: Microsoft Exchange Direct Logon uses each user's own credentials; there is no impersonated access to check in bulk")

// ErrNotAnswering is the cause (errors.Is on the [*StopError]) of a check
// stopped because Exchange no longer answered: too many requests in a row
// timed out (see [RetryBudget.MaxConsecutiveTimeouts]).
var ErrNotAnswering = errors.New("impersonation: Exchange stopped answering")

// errStopped is the cancellation cause when the check stops itself.
var errStopped = errors.New("impersonation: check stopped")

// StopError is returned with the report when the check ended before every
// user was probed: an invalid configuration, a failed preflight (wrong
// password, EWS blocked, endpoint unreachable), impersonation denied for the
// whole service account, or the context ending. The report is complete
// nevertheless: users that were not probed are [StatusNotChecked] with
// Reason as their message.
//
// Unwrap returns the cause: an org.ValidationErrors, an ews error (such as
// *ews.AuthError), [ErrDirectLogon], or the context's error, so errors.Is
// and errors.As reach it.
type StopError struct {
	// Stop is the same value as Report.Stopped.
	Stop
	// Err is the cause.
	Err error
}

// Error says that the check stopped and why.
func (e *StopError) Error() string {
	return "impersonation: check stopped: " + e.Reason
}

// Unwrap returns the cause.
func (e *StopError) Unwrap() error { return e.Err }

// Check checks every user of o: see [CheckUsers].
func Check(ctx context.Context, o *org.Organization, opts ...Option) (*Report, error) {
	if o == nil {
		return nil, errors.New("impersonation: Check: organization is nil")
	}
	return CheckUsers(ctx, o.Email, o.Users, opts...)
}

// CheckUsers checks that cfg's service account can impersonate each of
// users, and returns a [Report] with exactly one [Result] per user, in every
// case: when it returns an error too (a [*StopError]), the users it could
// not probe are marked [StatusNotChecked] with the reason.
//
// The check runs in this order:
//
//  1. cfg.Validate(). An invalid configuration stops the check (the error
//     unwraps to org.ValidationErrors). Malformed or duplicate user rows
//     (org.ValidateUsers) fail only those users.
//  2. A preflight without impersonation: GetFolder of the service
//     account's own msgfolderroot. Any SOAP answer, even an error such as
//     ErrorNonExistentMailbox for an account without a mailbox, proves
//     endpoint, TLS and credentials. A 401 stops the check before any
//     impersonated request, so a wrong password costs exactly one failed
//     logon instead of one per user (which would lock the account out of
//     Active Directory). A 401 for which the server checked no credentials
//     (it offers no scheme the configuration can use) stops it with a
//     reason naming the offered schemes and the setting to change. HTTP 403
//     (EWS blocked) and network or TLS failures stop it too.
//  3. For each user, concurrently (see [WithConcurrency]): GetFolder of the
//     inbox, impersonating the user's configured identity
//     (org.User.ImpersonationIdentity) with X-AnchorMailbox set to the
//     primary SMTP address. Per-user failures are results; only
//     ErrorImpersonationDenied (the account may not impersonate anyone), a
//     401 and a server that stopped answering stop the run.
//  4. With [WithWriteProbe], a test message created in Drafts and deleted.
//
// When Exchange asks the service account to back off, all workers pause
// together; transient failures are retried within the [RetryBudget]. Each
// request is bounded by [WithRequestTimeout], and when
// RetryBudget.MaxConsecutiveTimeouts requests in a row went unanswered the
// check stops ([ErrNotAnswering]), so a server that stops answering holds
// it for about two request timeouts, not hours. Cancelling ctx returns promptly with the
// partial report (with [WithWriteProbe], after deleting any test message
// in flight, which may take up to 30 seconds).
func CheckUsers(ctx context.Context, cfg org.EmailConfiguration, users []org.User, opts ...Option) (*Report, error) {
	s, optErr := newSettings(opts)
	if s.remove {
		optErr = errors.Join(optErr, errors.New("impersonation: WithRemoveProvisioning and WithRemoveContent are options of Deactivate"))
	}
	r := newRun(s, cfg, users)
	if rep, err := r.connect(optErr); rep != nil {
		return rep, err
	}
	// The client's keep-alive connections die with the check, so that a
	// service running many checks keeps no sockets or goroutines behind.
	defer r.client.CloseIdleConnections()
	if s.grouping {
		r.recordGrouping(ctx)
	}
	return r.execute(ctx)
}

// connect validates the options (optErr is newSettings') and the
// configuration and builds the run's client. It returns the report of a
// run stopped before it started, or nil when the run may start.
func (r *run) connect(optErr error) (*Report, error) {
	s, cfg := r.s, r.cfg
	if optErr != nil {
		return r.stopBeforeStart(Stop{Status: StatusNotChecked, Reason: "invalid options: " + optErr.Error(),
			Remediation: "Fix the options passed to the check."}, optErr)
	}
	if err := cfg.Validate(); err != nil {
		return r.stopBeforeStart(configStop(err), err)
	}
	if cfg.AccessType == org.DirectLogon {
		return r.stopBeforeStart(Stop{Status: StatusNotChecked, Reason: ErrDirectLogon.Error(),
			Remediation: "Choose Microsoft Exchange Impersonation (on-premises) or Exchange Online app-only OAuth as the Mailbox Access Type to activate users in bulk."}, ErrDirectLogon)
	}
	var eo []ews.Option
	if s.httpClient != nil {
		eo = append(eo, ews.WithHTTPClient(s.httpClient))
	}
	ao, err := s.authOptions(cfg, s.tokenHTTPClient())
	if err != nil {
		return r.stopBeforeStart(Stop{Status: StatusNotChecked, Reason: err.Error(),
			Remediation: "Fix the app-only credentials of the email configuration (Tenant ID, Client ID, secret or certificate) or the authority."}, err)
	}
	eo = append(eo, ao...)
	client, err := newEWSClient(cfg, cfg.AuthMethod, eo)
	if err != nil {
		return r.stopBeforeStart(Stop{Status: StatusNotChecked, Reason: err.Error(),
			Remediation: "Fix the email configuration or the EWS options."}, err)
	}
	r.client = client.With(ews.UseRetryPolicy(ews.NoRetries()))
	return nil, nil
}

// configStop describes an invalid configuration.
func configStop(err error) Stop {
	st := Stop{Status: StatusNotChecked, Reason: "the email configuration is invalid: " + err.Error()}
	var fixes []string
	var ve org.ValidationErrors
	if errors.As(err, &ve) {
		fixes = ve.Fixes()
	}
	if errors.Is(err, org.ErrImpersonationRetired) {
		fixes = append([]string{"Exchange Online removed the ApplicationImpersonation role in February 2025, so a service account with a password cannot impersonate there. " + appOnlyPointer + " Each request then carries the ExchangeImpersonation header and X-AnchorMailbox. " + ewsOnlineRetirement}, fixes...)
	}
	st.Remediation = strings.Join(fixes, " ")
	if st.Remediation == "" {
		st.Remediation = "Correct the email configuration and check again."
	}
	return st
}

// run is one check.
type run struct {
	s      *settings
	cfg    org.EmailConfiguration
	users  []org.User
	client *ews.Client // no ews-level retries: the run sees every back-off
	// work replaces the per-user check (Deactivate's removal); nil checks.
	work    func(ctx context.Context, i int) Result
	gate    *backoffGate
	limiter *concurrencyLimiter
	base    hints
	host    string
	port    string // the EWS URL's port, for network remediations
	report  *Report

	versionMu sync.Mutex // guards report.ServerVersion while workers run

	auth        authGate     // closed by the first rejected password
	timeouts    atomic.Int64 // requests in a row without an answer in time
	maxTimeouts int          // stop when timeouts reaches it

	progressPanic *progressPanic // set by the collector goroutine, read after it ended

	stopMu    sync.Mutex
	stop      *Stop
	stopCause error
	cancel    context.CancelCauseFunc
}

func newRun(s *settings, cfg org.EmailConfiguration, users []org.User) *run {
	r := &run{s: s, cfg: cfg, users: users, maxTimeouts: s.budget.MaxConsecutiveTimeouts}
	if r.maxTimeouts == 0 {
		r.maxTimeouts = max(2*s.concurrency, 2)
	}
	r.base = hints{
		serviceAccount: cfg.AccountLogon,
		exchangeOnline: org.IsExchangeOnline(cfg.EWSURL),
		appOnly:        cfg.AccessType == org.OnlineAppOnly,
		budget:         s.budget.MaxWait,
	}
	if r.base.appOnly {
		r.base.appID = strings.TrimSpace(cfg.ClientID)
		r.base.serviceAccount = "application " + r.base.appID
	}
	if u, err := url.Parse(cfg.EWSURL); err == nil {
		r.host = u.Hostname()
		r.port = u.Port()
		if r.port == "" {
			r.port = "443"
			if u.Scheme == "http" {
				r.port = "80"
			}
		}
	}
	r.report = &Report{
		Endpoint:       redactURL(cfg.EWSURL),
		ServiceAccount: r.base.serviceAccount,
		Started:        s.now(),
		Total:          len(users),
		WriteProbe:     s.writeProbe,
		Results:        make([]Result, len(users)),
	}
	for i, u := range users {
		res := &r.report.Results[i]
		res.Index = i
		res.Address = u.PrimarySMTP
		id := u.ImpersonationIdentity()
		if sid, ok := connectingSID(id); ok {
			res.IdentityKind = sid.Kind.String()
			res.Identity = sid.Value
		}
	}
	return r
}

// connectingSID maps org's identity onto the EWS header value.
func connectingSID(id org.Identity) (ews.ConnectingSID, bool) {
	if id.Value == "" {
		return ews.ConnectingSID{}, false
	}
	switch id.Kind {
	case org.IdentitySID:
		return ews.SID(id.Value), true
	case org.IdentityUPN:
		return ews.PrincipalName(id.Value), true
	case org.IdentitySMTP:
		return ews.SmtpAddress(id.Value), true
	default:
		return ews.PrimarySmtpAddress(id.Value), true
	}
}

// stopBeforeStart ends a check that never sent a request.
func (r *run) stopBeforeStart(st Stop, cause error) (*Report, error) {
	r.stop = &st
	r.stopCause = cause
	r.finish()
	return r.report, &StopError{Stop: st, Err: cause}
}

// setStop records the first reason to stop and cancels the run.
func (r *run) setStop(st Stop, cause error) {
	r.stopMu.Lock()
	if r.stop == nil {
		r.stop = &st
		r.stopCause = cause
		r.s.logger.Warn("impersonation check stopping", "status", st.Status, "code", st.Code, "reason", st.Reason)
	}
	r.stopMu.Unlock()
	if r.cancel != nil {
		r.cancel(errStopped)
	}
}

func (r *run) stopped() *Stop {
	r.stopMu.Lock()
	defer r.stopMu.Unlock()
	return r.stop
}

// execute runs preflight and probes.
func (r *run) execute(parent context.Context) (*Report, error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	r.cancel = cancel
	r.gate = newBackoffGate(r.s.budget.MaxWait, time.Now)
	r.limiter = newConcurrencyLimiter(r.s.concurrency)

	if !r.preflight(ctx) {
		return r.end(parent)
	}

	// Malformed and duplicate user rows fail on their own.
	skip := make([]bool, len(r.users))
	var ve org.ValidationErrors
	if err := org.ValidateUsers(r.users); errors.As(err, &ve) {
		for _, fe := range ve {
			i := userRow(fe.Field, len(r.users))
			if i < 0 || skip[i] {
				continue
			}
			skip[i] = true
			res := &r.report.Results[i]
			res.Status = StatusError
			if errors.Is(fe, org.ErrBadAddress) {
				res.Status = StatusNoMailbox
			}
			res.Message = fe.Error()
			res.Remediation = fe.Fix
			res.CheckedAt = r.s.now()
		}
	}
	for i := range r.users {
		if !skip[i] {
			if _, ok := connectingSID(r.users[i].ImpersonationIdentity()); !ok {
				skip[i] = true
				res := &r.report.Results[i]
				res.Status = StatusError
				res.Message = fmt.Sprintf("%s: the user has no primary SMTP address, UPN or SID to impersonate", org.UserField(i))
				res.Remediation = "Fill in the user's primary SMTP address (Get-Mailbox <name> | Format-List PrimarySmtpAddress,UserPrincipalName,Sid)."
				res.CheckedAt = r.s.now()
			}
		}
	}

	var done chan Result
	var collected sync.WaitGroup
	if r.s.progress != nil {
		done = make(chan Result, 4*r.s.concurrency)
		collected.Add(1)
		go r.collect(done, skip, &collected)
	}

	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < r.s.concurrency && w < len(r.users); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(r.users) || ctx.Err() != nil {
					return
				}
				if skip[i] {
					continue
				}
				res := r.checkUserSafe(ctx, i)
				r.report.Results[i] = res
				if done != nil {
					done <- res
				}
			}
		}()
	}
	wg.Wait()
	if done != nil {
		close(done)
		collected.Wait()
		if p := r.progressPanic; p != nil {
			panic(p.value)
		}
	}
	return r.end(parent)
}

// progressPanic holds what the progress callback panicked with.
type progressPanic struct{ value any }

// userRow parses "Users row N" into a 0-based index, or -1.
func userRow(field string, n int) int {
	var row int
	if _, err := fmt.Sscanf(field, "Users row %d", &row); err != nil || row < 1 || row > n {
		return -1
	}
	return row - 1
}

// collect serialises progress reports.
func (r *run) collect(done <-chan Result, skip []bool, wg *sync.WaitGroup) {
	defer wg.Done()
	counts := Counts{}
	n := 0
	for i, s := range skip {
		if s {
			counts[r.report.Results[i].Status]++
			n++
		}
	}
	for res := range done {
		n++
		counts[res.Status]++
		if r.progressPanic != nil {
			continue // keep draining, so that no worker blocks
		}
		r.callProgress(Progress{
			Done: n, Total: len(r.users), Counts: copyCounts(counts),
			Elapsed: r.s.now().Sub(r.report.Started), Last: res, Concurrency: r.limiter.current(),
		})
	}
}

// callProgress calls the progress callback on the collector goroutine.
// A panic in it cannot be recovered by the caller there, so it is kept and
// raised again on the caller's goroutine once every worker has ended.
func (r *run) callProgress(p Progress) {
	defer func() {
		if v := recover(); v != nil {
			r.progressPanic = &progressPanic{v}
			r.cancel(errStopped)
		}
	}()
	r.s.progress(p)
}

func copyCounts(c Counts) Counts {
	out := make(Counts, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// end marks unprobed users, sorts and counts, and builds the error.
func (r *run) end(parent context.Context) (*Report, error) {
	var cause error
	st := r.stopped()
	if st == nil && r.auth.closed.Load() {
		// A request whose 401 no worker turned into the stop (an extra
		// probe's): the users it held back still get the reason.
		r.setStop(Stop{Status: StatusAuthFailed,
			Reason:      "Exchange rejected the service account's credentials (HTTP 401) during the check; stopped so that Active Directory does not lock the account out",
			Remediation: remediation(StatusAuthFailed, "", r.base)}, errAuthGateClosed)
		st = r.stopped()
	}
	if st == nil && parent.Err() != nil {
		n := 0
		for _, res := range r.report.Results {
			if res.Status != "" && res.Status != StatusNotChecked {
				n++
			}
		}
		st = &Stop{Status: StatusNotChecked,
			Reason:      fmt.Sprintf("cancelled after %d of %d users (%v)", n, len(r.users), context.Cause(parent)),
			Remediation: "Run the check again to check the remaining users."}
		r.stop = st
		cause = context.Cause(parent)
	}
	filled := r.finish()
	if r.s.progress != nil && filled > 0 {
		r.s.progress(Progress{Done: len(r.users), Total: len(r.users), Counts: copyCounts(r.report.Counts),
			Elapsed: r.report.Finished.Sub(r.report.Started), Concurrency: r.limiter.current()})
	}
	if st == nil {
		return r.report, nil
	}
	if cause == nil {
		cause = r.stopCause
	}
	return r.report, &StopError{Stop: *st, Err: cause}
}

// finish fills every result without a status as not checked, then sorts
// and counts. It returns how many results it filled. When the run stopped,
// the users that a worker marked not checked (their request was in flight
// when the run ended) get the stop's reason too, so that every unchecked
// user says the same thing and the stop's remediation covers them all.
func (r *run) finish() int {
	filled := 0
	reason := "not checked"
	rem := ""
	if r.stop != nil {
		reason = "not checked: " + r.stop.Reason
		rem = r.stop.Remediation
	}
	for i := range r.report.Results {
		res := &r.report.Results[i]
		switch {
		case res.Status == "":
			res.Status = StatusNotChecked
			res.Message = reason
			res.Remediation = rem
			filled++
		case res.Status == StatusNotChecked && r.stop != nil:
			res.Message = reason
			res.Remediation = rem
		}
	}
	r.report.Stopped = r.stop
	r.report.Finished = r.s.now()
	r.report.Counts = countResults(r.report.Results)
	sortResults(r.report.Results)
	return filled
}
