package impersonation

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// attempt is the outcome of a request repeated within the retry budget.
type attempt struct {
	outcome
	attempts   int
	cancelled  bool  // the run's context ended first
	overBudget bool  // the server's back-off exceeded the wait budget
	maybeSent  bool  // the last request's fate is unknown
	err        error // the last request's error
}

// do sends call until it succeeds, fails for good, the retry budget is
// spent, or ctx ends. Every request waits at the shared back-off gate and
// holds a concurrency slot while in flight. When idempotent is false, a
// request whose fate is unknown (the connection dropped after sending) is
// not repeated.
func (r *run) do(ctx context.Context, maxAttempts int, idempotent bool, call func(context.Context) error) attempt {
	var a attempt
	for {
		if err := r.gate.wait(ctx); err != nil {
			if errors.Is(err, errOverBudget) {
				return r.throttledOverBudget(a)
			}
			a.cancelled = true
			return a
		}
		if err := r.limiter.acquire(ctx); err != nil {
			a.cancelled = true
			return a
		}
		err, timedOut := r.send(ctx, call)
		if errors.Is(err, errAuthGateClosed) {
			// The run is stopping for the 401 another worker got.
			a.cancelled = true
			return a
		}
		a.attempts++
		a.maybeSent = maybeSent(err)
		a.err = err
		if err != nil && ctx.Err() != nil {
			a.cancelled = true
			return a
		}
		a.outcome = classify(err)
		r.sawAnswer(timedOut, a.status)
		if a.status == StatusOK || a.stop {
			return a
		}
		// Act on what the server said even when this user gives up: its
		// back-off applies to every worker of the service account.
		if a.lower {
			n := r.limiter.lower()
			r.s.logger.Info("Exchange reports too many concurrent connections; lowering concurrency", "concurrency", n)
		}
		if a.gate {
			d := a.backoff
			if d <= 0 {
				d = retryDelay(r.s.budget.BaseDelay, maxRetryDelay, a.attempts)
			}
			if !r.gate.pause(d) {
				r.s.logger.Warn("Exchange asked for a back-off beyond the retry budget; reporting throttled", "backoff", d, "code", a.code)
				return r.throttledOverBudget(a)
			}
			r.s.logger.Info("Exchange asked the service account to back off; all workers paused", "backoff", d, "code", a.code)
		}
		if !a.retry || a.attempts >= maxAttempts || (!idempotent && a.maybeSent) {
			return a
		}
		if a.gate {
			continue // wait at the gate
		}
		if err := sleep(ctx, retryDelay(r.s.budget.BaseDelay, maxRetryDelay, a.attempts)); err != nil {
			a.cancelled = true
			return a
		}
	}
}

// send makes one request holding a concurrency slot (acquired by the
// caller, given back even if call panics), bounded by the request timeout.
// timedOut reports that the server did not answer in time (the request
// timeout, or a network timeout of the transport), while ctx was still
// alive.
//
// Every request passes the run's auth gate: none is written once Exchange
// rejected the password (errAuthGateClosed).
func (r *run) send(ctx context.Context, call func(context.Context) error) (err error, timedOut bool) {
	defer r.limiter.release()
	if r.auth.closed.Load() {
		return errAuthGateClosed, false
	}
	sctx, cancel := context.WithTimeout(ctx, r.s.reqTimeout)
	defer cancel()
	sctx, held := r.auth.guard(sctx, cancel)
	err = call(sctx)
	r.auth.sawResult(err)
	if err != nil && held() {
		return errAuthGateClosed, false
	}
	if err == nil || ctx.Err() != nil {
		return err, false
	}
	var ne net.Error
	return err, errors.Is(sctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// sawAnswer keeps count of requests in a row that the server did not
// answer in time, across every worker, and stops the run when there are
// [RetryBudget.MaxConsecutiveTimeouts] of them: a server that accepts
// connections but no longer answers would otherwise hold the check for
// about users / concurrency × attempts × request timeout (hours). Any
// answer, even an error, resets the count; failures that are no answer
// but no wait either (a refused connection) leave it as it is.
func (r *run) sawAnswer(timedOut bool, st Status) {
	switch {
	case timedOut:
		n := r.timeouts.Add(1)
		if n < int64(r.maxTimeouts) {
			return
		}
		r.setStop(Stop{Status: StatusNetworkError,
			Reason: fmt.Sprintf("Exchange stopped answering: %d requests in a row got no answer within %s (the request timeout); stopped instead of waiting for every user", n, r.s.reqTimeout),
			Remediation: fmt.Sprintf("Check that the Exchange server %s answers (Test-NetConnection %s -Port %s; the IIS application pool MSExchangeServicesAppPool; the load balancer and proxy in between), then run the check again. If the server is only slow, raise the request timeout.",
				r.host, r.host, r.port)}, ErrNotAnswering)
	case st != StatusNetworkError:
		r.timeouts.Store(0)
	}
}

// throttledOverBudget turns a back-off beyond the wait budget into a
// throttled outcome, keeping the server's code and message.
func (r *run) throttledOverBudget(a attempt) attempt {
	a.overBudget = true
	a.status = StatusThrottled
	a.retry = false
	if a.code == "" && a.attempts == 0 {
		a.code = ews.ErrorServerBusy
	}
	if a.message == "" {
		a.message = fmt.Sprintf("not sent: Exchange asked the service account to back off for %s, longer than the remaining retry budget", r.gate.lastBackoff().Round(time.Millisecond))
	}
	return a
}

// maybeSent reports whether err leaves the request's effect unknown.
func maybeSent(err error) bool {
	var tr *ews.TransportError
	return errors.As(err, &tr) && tr.MaybeSent
}

// preflight proves endpoint, TLS and credentials without impersonation. It
// reports whether the per-user probes may start; if not, the run's stop is
// set (or ctx ended).
func (r *run) preflight(ctx context.Context) bool {
	start := time.Now()
	pf := &Preflight{}
	req := &ews.GetFolderRequest{FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderMsgFolderRoot)}}
	proven := false
	preflightOnce := func(ctx context.Context) error {
		resp, err := r.client.GetFolder(ctx, req)
		if err != nil {
			var fe *ews.FaultError
			if errors.As(err, &fe) && !fe.Transient() && fe.Code != ews.ErrorServerBusy {
				// Any non-transient SOAP fault proves the logon.
				proven = true
				pf.Code, pf.Message = fe.Code, faultMessage(fe)
				return nil
			}
			return err
		}
		r.sawServer(resp.ServerVersion)
		if len(resp.Results) > 0 {
			var re *ews.ResponseError
			if errors.As(resp.Results[0].Err, &re) {
				if re.Transient() {
					return re
				}
				pf.Code, pf.Message = re.Code, re.Message
			}
		}
		proven = true
		return nil
	}
	a := r.do(ctx, r.s.budget.MaxAttempts, true, func(ctx context.Context) error {
		err := preflightOnce(ctx)
		if err != nil && ctx.Err() == nil && classify(err).status == StatusThrottled {
			pf.Throttled++
		}
		return err
	})
	pf.Duration = time.Since(start)
	pf.Attempts = a.attempts
	if a.cancelled {
		return false
	}
	r.report.Preflight = pf
	if proven && a.status == StatusOK {
		pf.Status = StatusOK
		r.s.logger.Info("preflight: service account logon proven", "endpoint", r.report.Endpoint,
			"server", r.report.ServerVersion, "code", pf.Code)
		return true
	}
	pf.Status, pf.Code, pf.Message = a.status, a.code, a.message
	var te *ews.TokenError
	if errors.As(a.err, &te) {
		// Nothing reached Exchange: Microsoft Entra ID gave no token.
		pf.Status = StatusAuthFailed
		r.setStop(Stop{Status: StatusAuthFailed,
			Reason:      "preflight: could not get an access token for " + r.base.serviceAccount + " from Microsoft Entra ID, so nothing was sent to Exchange: " + strings.TrimPrefix(te.Error(), "ews: "),
			Remediation: tokenFix}, a.err)
		return false
	}
	st := Stop{Status: a.status, Code: a.code}
	switch a.status {
	case StatusAuthFailed:
		st.Reason = "preflight: Exchange rejected the service account's credentials (HTTP 401); no user was checked, so the account saw one failed logon: " + a.message
		var ae *ews.AuthError
		if errors.As(a.err, &ae) && !credentialsTried(ae) {
			// Nothing the server checks was sent: no failed logon, and
			// the fix is in the configuration or on the server, not in
			// the password.
			st.Reason = "preflight: " + authNotTriedReason(ae, r.https(), r.base.appOnly) + "; no user was checked"
			st.Remediation = authSchemeFix(ae.Scheme, ae.Offered, r.https(), r.base.appOnly)
			r.setStop(st, a.cause())
			return false
		}
	case StatusBlockedByPolicy:
		st.Reason = "preflight: Exchange refused EWS for the service account (HTTP 403): " + a.message
	case StatusNetworkError:
		st.Reason = "preflight: cannot reach the EWS endpoint: " + a.message
	case StatusThrottled:
		st.Reason = "preflight: Exchange kept throttling the service account: " + a.message
	default:
		st.Reason = "preflight: the EWS endpoint did not answer as Exchange does: " + a.message
	}
	st.Remediation = r.remediationFor(a, "", "")
	r.setStop(st, a.cause())
	return false
}

// https reports whether the EWS URL is https://.
func (r *run) https() bool {
	u, err := url.Parse(r.cfg.EWSURL)
	return err == nil && strings.EqualFold(u.Scheme, "https")
}

// authNotTriedReason says why a 401 came although the server checked no
// credentials (see credentialsTried), so no failed logon was counted.
func authNotTriedReason(ae *ews.AuthError, https, appOnly bool) string {
	switch {
	case ae.Scheme != "" && !https && offers(ae.Offered, "Basic") && !offers(ae.Offered, "NTLM", "Negotiate", "Bearer"):
		return fmt.Sprintf("Exchange offers only Basic authentication, which scc refuses over http:// (the password would cross the network in clear text), and does not accept %s, so no credentials were checked and no failed logon was counted", ae.Scheme)
	case ae.Scheme == "" && appOnly:
		return "no access token was sent, and Exchange answered HTTP 401"
	case ae.Scheme == "":
		return "no credentials were sent, and Exchange answered HTTP 401"
	}
	return fmt.Sprintf("Exchange does not accept %s authentication (it offers %s), so no credentials were checked and no failed logon was counted", ae.Scheme, offeredText(ae.Offered))
}

// cause is the error a stop caused by a unwraps to.
func (a attempt) cause() error {
	switch {
	case a.err != nil:
		return a.err
	case a.code != "":
		return a.code
	}
	return errors.New(a.message)
}

// sawServer records the first ServerVersionInfo seen (the preflight's
// answer may be a fault without one).
func (r *run) sawServer(v *ews.ServerVersionInfo) {
	if v == nil {
		return
	}
	r.versionMu.Lock()
	if r.report.ServerVersion == "" {
		r.report.ServerVersion = v.String()
	}
	r.versionMu.Unlock()
}

// remediationFor picks the remediation text for an attempt's outcome for
// the mailbox address ("" for the preflight).
func (r *run) remediationFor(a attempt, identityKind, address string) string {
	h := r.base
	h.identityKind = identityKind
	h.address = address
	h.attempts = a.attempts
	if a.status == StatusThrottled {
		h.backoff = r.gate.lastBackoff()
		if a.backoff > h.backoff {
			h.backoff = a.backoff
		}
	}
	switch a.status {
	case StatusNetworkError:
		return networkRemediation(a.net, r.host, r.port)
	case StatusError:
		if a.code == "" && strings.Contains(a.message, "HTTP 404") {
			return "The EWS URL does not exist on this server: use https://<host>/EWS/Exchange.asmx (Get-WebServicesVirtualDirectory | Format-List ExternalUrl,InternalUrl)."
		}
	}
	return remediation(a.status, a.code, h)
}

// checkUser probes one user; it always returns a result with a status.
func (r *run) checkUser(ctx context.Context, i int) Result {
	u := r.users[i]
	res := r.report.Results[i]
	start := time.Now()
	view, sid := r.viewOf(u)
	inbox := []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}
	req := &ews.GetFolderRequest{FolderIDs: inbox, Shape: ews.ShapeDefault}
	// With a provisioning plan, the GetFolder of the inbox carries the
	// verification of the user's recorded folders (and of the plan's
	// parents whose ids are not recorded yet: on a first activation the
	// parents alone, so that the next run need not ask them), so that a
	// user whose provisioning is in place costs one request in all. The
	// inbox comes first: its result is the check's, as alone.
	// The folded request asks IdOnly and the properties the verification
	// compares: the check needs no more of the inbox than its answer.
	var ver verification
	if r.s.plan != nil {
		ver = (&provisioner{plan: r.s.plan}).verification(u.Sync)
		if len(ver.ids) > 0 {
			req = ver.request(inbox, ews.ShapeIDOnly)
		}
	}
	var verified []ews.FolderResult

	a := r.do(ctx, r.s.budget.MaxAttempts, true, func(ctx context.Context) error {
		resp, err := view.GetFolder(ctx, req)
		if err != nil {
			return err
		}
		r.sawServer(resp.ServerVersion)
		if len(resp.Results) == 0 {
			return errors.New("impersonation: GetFolder answered without a result")
		}
		verified = nil
		if len(ver.ids) > 0 && len(resp.Results) == len(req.FolderIDs) {
			verified = resp.Results[1:]
		}
		return resp.Results[0].Err
	})
	res.Attempts = a.attempts
	if a.cancelled {
		r.notChecked(ctx, &res)
		res.Duration = time.Since(start)
		return res
	}
	res.Status, res.Code, res.Message = a.status, a.code, a.message
	res.Remediation = r.remediationFor(a, res.IdentityKind, res.Address)
	switch {
	case a.status == StatusImpersonationDenied:
		r.setStop(Stop{Status: a.status, Code: a.code,
			Reason:      fmt.Sprintf("Exchange denied the service account impersonation as a whole (%s) while checking %s: every user would fail the same way", a.code, res.Address),
			Remediation: res.Remediation}, a.cause())
	case a.status == StatusAuthFailed:
		r.setStop(Stop{Status: a.status,
			Reason:      fmt.Sprintf("Exchange rejected the service account's credentials (HTTP 401) while checking %s; stopped so that Active Directory does not lock the account out: %s", res.Address, a.message),
			Remediation: res.Remediation}, a.cause())
	case a.stop:
		r.setStop(Stop{Status: a.status, Code: a.code,
			Reason:      fmt.Sprintf("Exchange answered %s while checking %s: every user would fail the same way: %s", a.code, res.Address, a.message),
			Remediation: res.Remediation}, a.cause())
	case a.status == StatusNoMailbox && a.code == ews.ErrorNonExistentMailbox && sid.Kind == ews.KindPrimarySmtpAddress:
		r.explainNoMailbox(ctx, view, sid, &res)
	case a.status == StatusOK && r.s.writeProbe:
		r.writeProbe(ctx, view, &res)
	}
	if res.Status == StatusOK && r.s.plan != nil && ctx.Err() == nil {
		res.Provision = r.provision(ctx, view, u, res.IdentityKind, res.Address, &ver, verified)
	}
	res.Duration = time.Since(start)
	res.CheckedAt = r.s.now()
	if res.Status == StatusNotChecked {
		res.CheckedAt = time.Time{}
	}
	r.s.logger.Debug("user checked", "address", res.Address, "status", res.Status, "code", res.Code, "attempts", res.Attempts)
	return res
}

// viewOf returns the run's client impersonating u, anchored to its
// primary SMTP address, and the identity it impersonates.
func (r *run) viewOf(u org.User) (*ews.Client, ews.ConnectingSID) {
	sid, _ := connectingSID(u.ImpersonationIdentity())
	opts := []ews.CallOption{ews.Impersonate(sid)}
	if addr := strings.TrimSpace(u.PrimarySMTP); addr != "" {
		opts = append(opts, ews.AnchorMailbox(addr))
	}
	return r.client.With(opts...), sid
}

// checkUserSafe is checkUser turning a panic (a bug of ours, or of a token
// source or transport the caller supplied) into this user's error result,
// so that it cannot crash the process from a worker goroutine, where the
// caller could not recover it, and every other user is still checked.
func (r *run) checkUserSafe(ctx context.Context, i int) (res Result) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		res = r.report.Results[i]
		res.Status, res.Code = StatusError, ""
		res.Message = fmt.Sprintf("impersonation: internal error while checking this user: panic: %v", v)
		res.Remediation = "This is a bug: check the user again, and report it with the check's log (WithLogger), which holds the stack."
		res.CheckedAt = r.s.now()
		r.s.logger.Error("panic while checking a user", "address", res.Address, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	}()
	if r.work != nil {
		return r.work(ctx, i)
	}
	return r.checkUser(ctx, i)
}

// explainNoMailbox finds out whether an address that is not a primary SMTP
// address belongs to a mailbox as a proxy address, by impersonating with
// SmtpAddress (which accepts any address of the mailbox).
func (r *run) explainNoMailbox(ctx context.Context, view *ews.Client, sid ews.ConnectingSID, res *Result) {
	alt := view.With(ews.Impersonate(ews.SmtpAddress(sid.Value)))
	a := r.do(ctx, 2, true, func(ctx context.Context) error {
		_, err := alt.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox))
		return err
	})
	if a.status == StatusOK && !a.cancelled {
		res.Remediation = fmt.Sprintf("%s is a secondary (proxy) address of a mailbox, not its primary SMTP address: replace it with the mailbox's primary SMTP address (Get-Recipient %s | Format-List PrimarySmtpAddress) or impersonate by UPN or SID.", sid.Value, sid.Value)
	}
}

// notChecked marks res as not checked because the run ended.
func (r *run) notChecked(ctx context.Context, res *Result) {
	res.Status = StatusNotChecked
	res.Code = ""
	if st := r.stopped(); st != nil {
		res.Message = "not checked: " + st.Reason
		res.Remediation = st.Remediation
		return
	}
	res.Message = fmt.Sprintf("not checked: cancelled (%v)", context.Cause(ctx))
	res.Remediation = "Run the check again to check this user."
}
