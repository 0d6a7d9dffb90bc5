package ews

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds how a Client repeats a failed call. A call is repeated
// only for transient failures:
//
//   - throttling: a fault or an all-items response ErrorServerBusy (waiting
//     BackOffMilliseconds), or HTTP 503 (waiting Retry-After);
//   - a connection that could not be established (nothing was sent);
//   - for idempotent operations only, failures whose effect is unknown or
//     that the server reports as transient: a connection dropped after the
//     request was sent, 5xx without SOAP, transient fault codes such as
//     ErrorMailboxStoreUnavailable.
//
// Idempotent are GetFolder, FindFolder, FindItem, GetItem, ConvertId,
// ResolveNames and DeleteItem (deleting a given id twice cannot delete
// anything else; a repeated delete whose first attempt succeeded reports
// ErrorItemNotFound for that item). CreateItem is not: a CreateItem whose
// fate is unknown is returned as a *TransportError with MaybeSent set,
// never silently repeated.
//
// Waits carry jitter. The server's own back-off is honoured (waited at
// least that long); when it is longer than what is left of MaxWait, or
// beyond the context's deadline, the call returns the *ThrottledError at once
// instead of sleeping, so that the caller can pause all its work.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts per call, including the first;
	// 1 disables retries.
	MaxAttempts int
	// MaxWait bounds the total time one call spends waiting between
	// attempts.
	MaxWait time.Duration
	// BaseDelay is the wait before the first retry when the server gave no
	// back-off; it doubles with every further retry (with full jitter).
	BaseDelay time.Duration
	// MaxDelay caps one computed wait (not the server's back-off).
	MaxDelay time.Duration
}

// DefaultRetryPolicy returns the policy of a Client without
// [WithRetryPolicy]: 4 attempts, at most 1 minute of waiting per call, first
// delay 500ms, at most 15s per computed delay. Exchange Online's throttling
// back-offs (often about 5 minutes) exceed the minute, so those come back as
// a *ThrottledError immediately.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, MaxWait: time.Minute, BaseDelay: 500 * time.Millisecond, MaxDelay: 15 * time.Second}
}

// NoRetries returns a policy that makes one attempt per call, so that every
// throttling error (with its back-off) reaches the caller at once.
func NoRetries() RetryPolicy { return RetryPolicy{MaxAttempts: 1} }

func (p RetryPolicy) validate() error {
	switch {
	case p.MaxAttempts < 1:
		return fmt.Errorf("ews: RetryPolicy.MaxAttempts is %d; want at least 1 (1 = no retries)", p.MaxAttempts)
	case p.MaxWait < 0 || p.BaseDelay < 0 || p.MaxDelay < 0:
		return errors.New("ews: RetryPolicy durations must not be negative")
	case p.MaxAttempts > 1 && p.BaseDelay == 0:
		return errors.New("ews: RetryPolicy.BaseDelay is 0; want a positive delay when MaxAttempts > 1")
	}
	return nil
}

// RetryEvent describes one retry, for [WithRetryHook].
type RetryEvent struct {
	// Operation is the EWS operation, e.g. "GetFolder".
	Operation string
	// Attempt is the number of the attempt that failed (1 = the first).
	Attempt int
	// Wait is how long the client waits before the next attempt.
	Wait time.Duration
	// Err is the failure of that attempt.
	Err error
	// Impersonated is the mailbox the call impersonates (zero if none).
	Impersonated ConnectingSID
}

// retryDecision says whether and how long to wait after attempt failed with
// err. waited is the time already spent waiting in this call.
func (p RetryPolicy) decide(ctx context.Context, op *operation, attempt int, waited time.Duration, err error) (time.Duration, bool) {
	if attempt >= p.MaxAttempts || ctx.Err() != nil {
		return 0, false
	}
	var (
		hint      time.Duration
		retryable bool
	)
	var te *ThrottledError
	var fe *FaultError
	var he *HTTPError
	var tr *TransportError
	switch {
	case errors.As(err, &te):
		hint, retryable = te.BackOff, true
	case errors.As(err, &tr):
		retryable = tr.Transient() && (!tr.MaybeSent || op.idempotent)
	case errors.As(err, &fe):
		retryable = op.idempotent && fe.Transient()
		hint, _ = fe.MessageXML.backOff()
	case errors.As(err, &he):
		retryable = op.idempotent && he.Transient()
	}
	if !retryable {
		return 0, false
	}
	var wait time.Duration
	if hint > 0 {
		// Honour the server: at least its back-off, plus up to 10% jitter
		// so that many clients do not return at the same instant.
		wait = hint + time.Duration(rand.Int64N(int64(hint/10)+1))
	} else {
		d := p.BaseDelay << (attempt - 1)
		if d <= 0 || (p.MaxDelay > 0 && d > p.MaxDelay) {
			d = p.MaxDelay
		}
		// Full jitter, but never less than half the delay.
		wait = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	}
	if waited+wait > p.MaxWait {
		return 0, false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return 0, false
	}
	return wait, true
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
