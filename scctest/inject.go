package scctest

import (
	"errors"
	"fmt"
	"strings"
)

type conditionKind uint8

const (
	condOperation conditionKind = iota + 1
	condMailbox
	condOnCall
	condTimes
)

// Condition narrows which requests a fault given to [Server.Inject]
// applies to. Build one with [ForOperation], [ForMailbox], [OnCall] or
// [Times].
type Condition struct {
	kind conditionKind
	str  string
	n    int
}

// ForOperation limits a targeted fault to requests of one operation, named
// as the local name of its SOAP body element ("GetFolder").
func ForOperation(operation string) Condition {
	return Condition{kind: condOperation, str: operation}
}

// ForMailbox limits a targeted fault to requests acting on one mailbox
// (impersonated, or the caller's own), named by any of its SMTP addresses
// or its UPN, in any case.
func ForMailbox(address string) Condition {
	return Condition{kind: condMailbox, str: strings.ToLower(strings.TrimSpace(address))}
}

// OnCall makes a targeted fault fire on the n-th matching request (1 is the
// first) rather than the first; with [Times] it fires on n and the ones
// after it.
func OnCall(n int) Condition { return Condition{kind: condOnCall, n: n} }

// Times makes a targeted fault fire on n matching requests in a row (from
// the first, or from [OnCall]'s). Without Times, a fault with OnCall fires
// once and one without OnCall fires on every matching request.
func Times(n int) Condition { return Condition{kind: condTimes, n: n} }

// String describes the condition.
func (c Condition) String() string {
	switch c.kind {
	case condOperation:
		return "ForOperation(" + c.str + ")"
	case condMailbox:
		return "ForMailbox(" + c.str + ")"
	case condOnCall:
		return fmt.Sprintf("OnCall(%d)", c.n)
	case condTimes:
		return fmt.Sprintf("Times(%d)", c.n)
	}
	return "Condition{}"
}

// injection is one targeted fault.
type injection struct {
	f         Fault
	operation string // "" for any
	mailbox   string // lowercased; "" for any
	from      int    // first matching call that fails (1-based)
	times     int    // how many fail; 0 for all from on
	calls     int    // matching calls seen so far
}

// Inject registers a targeted fault: f answers the requests that match
// every condition, counted among the requests that match the operation and
// mailbox conditions. It applies at the point reactors see a request (after
// authentication, the envelope checks and impersonation), so requests that
// fail earlier, NTLM legs and other operations (a client's version probe
// or preflight) neither fire nor use it up. For example, to throttle bob's
// second GetFolder:
//
//	err := s.Inject(scctest.ServerBusy(time.Second),
//	    scctest.ForOperation("GetFolder"), scctest.ForMailbox("bob@contoso.example"), scctest.OnCall(2))
//
// Without OnCall or Times the fault answers every matching request until
// [Server.ClearFaults]. Targeted faults are checked in the order registered,
// every one counting the calls that match it, and the first that fires
// answers; a targeted fault wins over a reactor's, though reactors still
// see the request. Inject refuses a zero fault, an operation that is not an
// EWS operation, an empty mailbox, counts below 1 and repeated conditions.
func (s *Server) Inject(f Fault, when ...Condition) error {
	if f.IsZero() {
		return errors.New("scctest: Inject: the fault is the zero Fault; build one with ServerBusy, SOAPFault, MessageError, HTTPStatus or DropConnection")
	}
	inj := &injection{f: f, from: 1}
	seen := map[conditionKind]bool{}
	onCall, times := false, false
	for _, c := range when {
		if seen[c.kind] {
			return fmt.Errorf("scctest: Inject: %v given twice", c)
		}
		seen[c.kind] = true
		switch c.kind {
		case condOperation:
			if c.str == "" || strings.ContainsAny(c.str, " \t") || !strings.Contains(schemaOperations, " "+c.str+" ") {
				return fmt.Errorf("scctest: Inject: ForOperation(%q) is not an EWS operation (the local name of the request element, e.g. GetFolder)", c.str)
			}
			inj.operation = c.str
		case condMailbox:
			if c.str == "" {
				return errors.New("scctest: Inject: ForMailbox needs an address")
			}
			inj.mailbox = c.str
		case condOnCall:
			if c.n < 1 {
				return fmt.Errorf("scctest: Inject: OnCall(%d): calls count from 1", c.n)
			}
			inj.from, onCall = c.n, true
		case condTimes:
			if c.n < 1 {
				return fmt.Errorf("scctest: Inject: Times(%d): must be at least 1", c.n)
			}
			inj.times, times = c.n, true
		default:
			return errors.New("scctest: Inject: zero Condition; use ForOperation, ForMailbox, OnCall or Times")
		}
	}
	if onCall && !times {
		inj.times = 1
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults.targeted = append(s.faults.targeted, inj)
	return nil
}

// pickTargetedLocked counts the call for every targeted fault it matches
// and returns the first that fires. Callers hold fmu.
func (s *Server) pickTargetedLocked(c Call, mb *mailbox) Fault {
	var out Fault
	for _, inj := range s.faults.targeted {
		if inj.operation != "" && inj.operation != c.Operation {
			continue
		}
		if inj.mailbox != "" && (mb == nil || !inScope(map[string]bool{inj.mailbox: true}, mb)) {
			continue
		}
		inj.calls++
		fires := inj.calls >= inj.from && (inj.times == 0 || inj.calls < inj.from+inj.times)
		if fires && out.IsZero() {
			out = inj.f
		}
	}
	return out
}
