package scctest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
)

type faultKind uint8

const (
	faultNone faultKind = iota
	faultSOAP
	faultMessage
	faultStatus
	faultDrop
)

// Fault is a failure the server can inject instead of serving a request.
// Build one with [ServerBusy], [SOAPFault], [MessageError], [HTTPStatus] or
// [DropConnection]; the zero Fault means "no fault".
type Fault struct {
	kind    faultKind
	code    ews.ResponseCode
	message string
	backOff time.Duration
	status  int
}

// ServerBusy is the throttling fault: HTTP 500 with a SOAP fault
// ErrorServerBusy carrying MessageXml BackOffMilliseconds (omitted when
// backOff is zero).
func ServerBusy(backOff time.Duration) Fault {
	return Fault{kind: faultSOAP, code: ews.ErrorServerBusy, backOff: backOff}
}

// SOAPFault answers HTTP 500 with a SOAP fault of the given code; an empty
// message uses the text Exchange uses for the code.
func SOAPFault(code ews.ResponseCode, message string) Fault {
	return Fault{kind: faultSOAP, code: code, message: message}
}

// MessageError answers HTTP 200 with one ResponseClass="Error" response
// message of the given code for each element of the request's batch (e.g.
// ErrorMailboxStoreUnavailable, ErrorMailboxMoveInProgress, or
// ErrorInternalServerError). The operation does not run.
func MessageError(code ews.ResponseCode) Fault {
	return Fault{kind: faultMessage, code: code}
}

// HTTPStatus answers with a bare HTTP status and no SOAP body, e.g. 503 as
// IIS does when EWS requests queue up.
func HTTPStatus(status int) Fault {
	return Fault{kind: faultStatus, status: status}
}

// DropConnection closes the TCP connection without answering.
func DropConnection() Fault { return Fault{kind: faultDrop} }

// IsZero reports whether f is the zero Fault (no fault).
func (f Fault) IsZero() bool { return f.kind == faultNone }

// String describes the fault.
func (f Fault) String() string {
	switch f.kind {
	case faultSOAP:
		if f.backOff > 0 {
			return fmt.Sprintf("SOAP fault %s (back off %v)", f.code, f.backOff)
		}
		return "SOAP fault " + string(f.code)
	case faultMessage:
		return "response message error " + string(f.code)
	case faultStatus:
		return fmt.Sprintf("HTTP %d", f.status)
	case faultDrop:
		return "dropped connection"
	}
	return "no fault"
}

// Call describes a request about to be served, for a [Reactor].
type Call struct {
	// Operation is the local name of the SOAP body element, e.g. "GetFolder".
	Operation string
	// Mailbox is the primary SMTP address of the mailbox the request acts
	// on (impersonated, or the caller's own), or "".
	Mailbox string
	// Impersonated reports whether the request carried ExchangeImpersonation.
	Impersonated bool
	// Principal is the logon name or app id of the caller.
	Principal string
}

// Reaction is what a [Reactor] wants: an optional delay, then an optional
// fault. The zero Reaction serves the request normally. A request whose
// client goes away during the delay is abandoned: the operation does not
// run and nothing is answered.
type Reaction struct {
	Delay time.Duration
	Fault Fault
}

// Reactor is a hook that sees every matching request after authentication
// and impersonation and before the operation runs. It may record the call,
// delay it, or fail it. It runs on the request's goroutine and must be safe
// for concurrent use.
type Reactor func(Call) Reaction

type reactorEntry struct {
	op, mailbox string
	r           Reactor
}

type queuedFault struct {
	left int
	f    Fault
}

type fractionFault struct {
	p float64
	f Fault
}

// faultState is the per-server fault injection state.
type faultState struct {
	rng       *rand.Rand
	next      []queuedFault
	fractions []fractionFault
	latency   time.Duration
	jitter    time.Duration
	maxConc   int
	inflight  map[string]int
	reactors  []reactorEntry
	targeted  []*injection
	closing   chan struct{}
	closed    bool
}

// InjectNext makes the next n requests that pass authentication fail with f.
// Several calls queue up in order.
func (s *Server) InjectNext(n int, f Fault) {
	if n <= 0 || f.IsZero() {
		return
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults.next = append(s.faults.next, queuedFault{left: n, f: f})
}

// InjectFraction makes each authenticated request fail with f with
// probability p (0..1), drawn from the server's seeded random source, until
// [Server.ClearFaults].
func (s *Server) InjectFraction(p float64, f Fault) {
	if p <= 0 || f.IsZero() {
		return
	}
	if p > 1 {
		p = 1
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults.fractions = append(s.faults.fractions, fractionFault{p: p, f: f})
}

// SetLatency delays every authenticated request (after its body is read)
// by fixed plus a uniformly random duration in [0, jitter). A request whose
// client goes away during the delay is abandoned: it is not served.
func (s *Server) SetLatency(fixed, jitter time.Duration) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults.latency, s.faults.jitter = max(fixed, 0), max(jitter, 0)
}

// SetMaxConcurrency limits how many requests one account (or app/user of a
// token) may have in flight; further ones fail with the SOAP fault
// ErrorExceededConnectionCount, as the EWSMaxConcurrency throttling policy
// does. Zero removes the limit.
func (s *Server) SetMaxConcurrency(n int) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults.maxConc = max(n, 0)
}

// React registers a reactor for requests of an operation ("" for all) that
// act on a mailbox (any of its addresses; "" for all). Reactors run in the
// order registered; the first one returning a fault decides, delays add up.
func (s *Server) React(operation, mailbox string, r Reactor) {
	if r == nil {
		return
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults.reactors = append(s.faults.reactors, reactorEntry{op: operation, mailbox: strings.ToLower(strings.TrimSpace(mailbox)), r: r})
}

// ClearFaults removes queued, fractional and targeted faults, latency, the
// concurrency limit and all reactors.
func (s *Server) ClearFaults() {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults.next, s.faults.fractions, s.faults.reactors, s.faults.targeted = nil, nil, nil, nil
	s.faults.latency, s.faults.jitter, s.faults.maxConc = 0, 0, 0
}

// pickFault consumes a queued fault or draws a fractional one.
func (s *Server) pickFault() Fault {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	fs := &s.faults
	for len(fs.next) > 0 {
		q := &fs.next[0]
		if q.left <= 0 {
			fs.next = fs.next[1:]
			continue
		}
		q.left--
		f := q.f
		if q.left == 0 {
			fs.next = fs.next[1:]
		}
		return f
	}
	for _, fr := range fs.fractions {
		if fs.rng.Float64() < fr.p {
			return fr.f
		}
	}
	return Fault{}
}

// delay returns the latency to apply to one request.
func (s *Server) delay() time.Duration {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	d := s.faults.latency
	if s.faults.jitter > 0 {
		d += time.Duration(s.faults.rng.Int64N(int64(s.faults.jitter)))
	}
	return d
}

// sleep waits d, or less if the server closes. It reports false when the
// client went away (the request's context ended) before d passed: the
// caller must then abandon the request, neither running the operation nor
// answering, because Exchange had not begun to act on it and an answer
// written now could still reach a client that is cancelling it (net/http's
// transport hands over a response that races its own cancellation).
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return false
	case <-s.faults.closing:
	}
	return true
}

// acquire counts a request in flight for key; ok is false over the limit.
func (s *Server) acquire(key string) (release func(), ok bool) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.faults.maxConc > 0 && s.faults.inflight[key] >= s.faults.maxConc {
		return func() {}, false
	}
	s.faults.inflight[key]++
	return func() {
		s.fmu.Lock()
		defer s.fmu.Unlock()
		s.faults.inflight[key]--
		if s.faults.inflight[key] <= 0 {
			delete(s.faults.inflight, key)
		}
	}, true
}

// react picks a targeted fault and runs the matching reactors.
func (s *Server) react(c Call, mb *mailbox) Reaction {
	s.fmu.Lock()
	injected := s.pickTargetedLocked(c, mb)
	rs := make([]reactorEntry, 0, len(s.faults.reactors))
	rs = append(rs, s.faults.reactors...)
	s.fmu.Unlock()
	out := Reaction{Fault: injected}
	for _, e := range rs {
		if e.op != "" && e.op != c.Operation {
			continue
		}
		if e.mailbox != "" && (mb == nil || !inScope(map[string]bool{e.mailbox: true}, mb)) {
			continue
		}
		r := e.r(c)
		out.Delay += r.Delay
		if !r.Fault.IsZero() {
			if out.Fault.IsZero() {
				out.Fault = r.Fault
			}
			return out
		}
	}
	return out
}
