package scctest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
)

// The limits and failures of notifications as Exchange has them
// (EWS-FACTS-SYNC §9.4, §9.7, §9.8): HangingConnectionLimit, one
// connection per subscription (ErrorNewEventStreamConnectionOpened), the
// lifetime of a streaming subscription without a connection, and the
// direct API that makes subscriptions lose events, expire, or lose their
// connections, for tests of clients that must resync.

// Defaults of the notification limits.
const (
	// DefaultHangingConnectionLimit is how many GetStreamingEvents
	// connections one budget may hold open on Exchange 2016, 2019 and
	// Exchange Online.
	DefaultHangingConnectionLimit = 10
	// Exchange2013HangingConnectionLimit is Exchange 2013's default.
	Exchange2013HangingConnectionLimit = 3
	// DefaultStreamingSubscriptionLifetime is how long a streaming
	// subscription lives without a GetStreamingEvents connection (Exchange
	// documents no value; 30 minutes is the fake's choice, the longest
	// ConnectionTimeout).
	DefaultStreamingSubscriptionLifetime = 30 * time.Minute
)

// WithHangingConnectionLimit sets how many GetStreamingEvents connections
// one budget may hold open at once (HangingConnectionLimit); one more is
// answered ErrorExceededConnectionCount. A connection opened while
// impersonating a mailbox is charged to that mailbox's budget (shared by
// every account impersonating it, apart from the mailbox's own logons);
// one opened without impersonation to the authenticated account. The
// default is [DefaultHangingConnectionLimit], or
// [Exchange2013HangingConnectionLimit] for [Exchange2013SP1].
func WithHangingConnectionLimit(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("scctest: WithHangingConnectionLimit(%d): the limit must be at least 1", n)
		}
		c.hangingLimit = n
		return nil
	}
}

// WithStreamingSubscriptionLifetime sets how long a streaming subscription
// lives without an open GetStreamingEvents connection, on the server's
// clock ([WithClock]); after it the subscription is gone
// (ErrorSubscriptionNotFound). Default
// [DefaultStreamingSubscriptionLifetime].
func WithStreamingSubscriptionLifetime(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("scctest: WithStreamingSubscriptionLifetime(%v): the lifetime must be positive", d)
		}
		c.streamLifetime = d
		return nil
	}
}

func (s *Server) hangingLimit() int {
	switch {
	case s.cfg.hangingLimit > 0:
		return s.cfg.hangingLimit
	case s.cfg.version == Exchange2013SP1:
		return Exchange2013HangingConnectionLimit
	}
	return DefaultHangingConnectionLimit
}

func (s *Server) streamLifetime() time.Duration {
	if s.cfg.streamLifetime > 0 {
		return s.cfg.streamLifetime
	}
	return DefaultStreamingSubscriptionLifetime
}

// subLimits is the part of a subscription's state this file keeps.
// Guarded by Server.mu.
type subLimits struct {
	// conn is the GetStreamingEvents connection serving the subscription,
	// or nil.
	conn *streamConn
	// missed: events were lost (LoseEvents) and the next GetEvents or
	// stream turn reports ErrorMissedNotificationEvents.
	missed bool
	// lostTo is the change-log sequence up to which events were lost; a
	// GetEvents from an older watermark resumes there.
	lostTo uint64
	// gone is set when the subscription left the table while a connection
	// served it: the code that connection reports for it.
	gone ews.ResponseCode
}

// streamConn is one open GetStreamingEvents connection. Its fields are
// guarded by Server.mu; wake and nc are safe to use without it.
type streamConn struct {
	owner string          // the budget it is charged to
	subs  []*subscription // the subscriptions it serves
	// taken are the ids of subscriptions a newer connection took, to be
	// reported with ErrorNewEventStreamConnectionOpened.
	taken []string
	// wake (capacity 1) tells the connection's handler to look at its
	// state: a subscription was taken, lost events or left the table.
	wake chan struct{}
	// nc is the TCP connection the stream is written to, for DropStreams.
	nc net.Conn
	// released: the connection no longer counts against its budget and
	// its subscriptions are detached (the stream ended or was dropped).
	released bool
}

func (c *streamConn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// limitTable is the part of the subscription table this file keeps.
// Guarded by Server.mu.
type limitTable struct {
	byBox    map[*mailbox]map[*subscription]struct{}
	conns    map[*streamConn]struct{}
	perOwner map[string]int // open connections per budget
}

// add puts a new subscription in the table.
func (t *subscriptions) add(sub *subscription) {
	t.init()
	if t.byBox == nil {
		t.byBox = map[*mailbox]map[*subscription]struct{}{}
	}
	t.byID[sub.id] = sub
	t.count[sub.mb]++
	set := t.byBox[sub.mb]
	if set == nil {
		set = map[*subscription]struct{}{}
		t.byBox[sub.mb] = set
	}
	set[sub] = struct{}{}
}

// removeAs takes a subscription out of the table; a connection serving it
// reports code for it and stops serving it.
func (t *subscriptions) removeAs(sub *subscription, code ews.ResponseCode) {
	if t.byID[sub.id] != sub {
		return
	}
	delete(t.byID, sub.id)
	t.count[sub.mb]--
	if set := t.byBox[sub.mb]; set != nil {
		delete(set, sub)
		if len(set) == 0 {
			delete(t.byBox, sub.mb)
		}
	}
	if sub.push != nil {
		sub.push.end()
	}
	if sub.conn != nil {
		sub.gone = code
		sub.conn.poke()
	}
}

// idleExpired reports whether a subscription outlived its idle lifetime:
// a pull subscription without GetEvents within its Timeout, a streaming one
// without a connection for the streaming lifetime.
func (s *Server) idleExpired(sub *subscription) bool {
	if sub.conn != nil {
		return false
	}
	idle := s.now().Sub(sub.lastCall)
	switch sub.kind {
	case subPull:
		return idle > sub.timeout
	case subStreaming:
		return idle > s.streamLifetime()
	}
	return false
}

// sweepIdle removes the idle-expired subscriptions of a mailbox, so that
// they no longer count against its subscription limit.
func (s *Server) sweepIdle(mb *mailbox) {
	t := &s.subs
	for sub := range t.byBox[mb] {
		if s.idleExpired(sub) {
			t.removeAs(sub, ews.ErrorSubscriptionNotFound)
		}
	}
}

// streamOwner is the budget a GetStreamingEvents connection is charged to:
// the impersonated mailbox's (a budget shared by every account
// impersonating it, apart from the mailbox's own), else the caller's.
func (x *exchange) streamOwner() string {
	if x.impersonated && x.acting != nil {
		return "impersonated:" + strings.ToLower(x.acting.info.PrimarySMTP)
	}
	return x.p.key()
}

// connKey is the request context key of the TCP connection (set by the
// server's ConnContext), through which DropStreams cuts a stream.
type connKey struct{}

func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// attachStream opens a connection for subs, charging it to the caller's
// budget and taking the subscriptions from older connections. Over the
// HangingConnectionLimit it returns the answer instead. Callers hold
// Server.mu.
func (x *exchange) attachStream(subs []*subscription) (*streamConn, *opResponse) {
	s := x.s
	t := &s.subs
	owner := x.streamOwner()
	if t.perOwner == nil {
		t.perOwner = map[string]int{}
		t.conns = map[*streamConn]struct{}{}
	}
	if n := t.perOwner[owner]; n >= s.hangingLimit() {
		return nil, &opResponse{op: x.op, messages: []responseMessage{{code: ews.ErrorExceededConnectionCount, payload: func(m *elem) {
			m.CreateElement("m:ConnectionStatus").SetText("Closed")
		}}}}
	}
	c := &streamConn{owner: owner, wake: make(chan struct{}, 1)}
	c.nc, _ = x.r.Context().Value(connKey{}).(net.Conn)
	for _, sub := range subs {
		if sub.conn == c {
			continue // named twice
		}
		if old := sub.conn; old != nil {
			old.subs = slices.DeleteFunc(old.subs, func(o *subscription) bool { return o == sub })
			old.taken = append(old.taken, sub.id)
			old.poke()
		}
		sub.conn = c
		c.subs = append(c.subs, sub)
	}
	t.conns[c] = struct{}{}
	t.perOwner[owner]++
	return c, nil
}

// releaseStream ends a connection's hold: it no longer counts against its
// budget, and its subscriptions start their idle lifetime. Callers hold
// Server.mu.
func (s *Server) releaseStream(c *streamConn) {
	if c.released {
		return
	}
	c.released = true
	t := &s.subs
	delete(t.conns, c)
	if t.perOwner[c.owner]--; t.perOwner[c.owner] <= 0 {
		delete(t.perOwner, c.owner)
	}
	now := s.now()
	for _, sub := range c.subs {
		if sub.conn == c {
			sub.conn = nil
			sub.lastCall = now
		}
	}
	c.subs = nil
}

// streamTurn takes what a connection has to say: errors for subscriptions
// taken by a newer connection (ErrorNewEventStreamConnectionOpened), gone
// from the table (ErrorSubscriptionNotFound after an expiry,
// ErrorSubscriptionUnsubscribed after Unsubscribe) or that lost events
// (ErrorMissedNotificationEvents; they stay), then the pending events. Each
// error message names its subscriptions in ErrorSubscriptionIds; the last
// message says Closed, and end is set, when no subscription is left.
// A released (dropped) connection gets nothing and end. Callers hold
// Server.mu.
func (x *exchange) streamTurn(c *streamConn) (msgs []responseMessage, end bool) {
	if c.released {
		return nil, true
	}
	type idError struct {
		code ews.ResponseCode
		text string
		ids  []string
	}
	var errs []idError
	if len(c.taken) > 0 {
		errs = append(errs, idError{ews.ErrorNewEventStreamConnectionOpened, "Another connection was opened against this subscription.", c.taken})
		c.taken = nil
	}
	var notFound, unsubscribed, missed []string
	c.subs = slices.DeleteFunc(c.subs, func(sub *subscription) bool {
		switch sub.gone {
		case "":
			return false
		case ews.ErrorSubscriptionUnsubscribed:
			unsubscribed = append(unsubscribed, sub.id)
		default:
			notFound = append(notFound, sub.id)
		}
		sub.conn = nil
		return true
	})
	if len(notFound) > 0 {
		errs = append(errs, idError{ews.ErrorSubscriptionNotFound, "The specified subscription was not found.", notFound})
	}
	if len(unsubscribed) > 0 {
		errs = append(errs, idError{ews.ErrorSubscriptionUnsubscribed, "The subscription has been unsubscribed.", unsubscribed})
	}
	for _, sub := range c.subs {
		if sub.missed {
			sub.missed = false
			missed = append(missed, sub.id)
		}
	}
	if len(missed) > 0 {
		errs = append(errs, idError{ews.ErrorMissedNotificationEvents, "Events for the subscription were lost; the subscription remains.", missed})
	}
	end = len(c.subs) == 0
	status := func(m *elem, last bool) {
		st := "OK"
		if last && end {
			st = "Closed"
		}
		m.CreateElement("m:ConnectionStatus").SetText(st)
	}
	events, ok := x.streamBatch(c.subs)
	total := len(errs)
	if ok {
		total++
	}
	for i, e := range errs {
		last := i == total-1
		msgs = append(msgs, responseMessage{code: e.code, text: e.text, payload: func(m *elem) {
			list := m.CreateElement("m:ErrorSubscriptionIds")
			for _, id := range e.ids {
				list.CreateElement(x.s.notifyNS("SubscriptionId")).SetText(id)
			}
			status(m, last)
		}})
	}
	if ok {
		msgs = append(msgs, success(func(m *elem) {
			events(m)
			status(m, true)
		}))
	}
	return msgs, end
}

// streamErrorPayload completes an error message that refuses a whole
// GetStreamingEvents request (an injected MessageError): it names every
// requested subscription and closes the stream.
func (x *exchange) streamErrorPayload(m *elem) {
	if ids := x.body.child(nsMessages, "SubscriptionIds"); ids != nil && len(ids.kids) > 0 {
		list := m.CreateElement("m:ErrorSubscriptionIds")
		for _, n := range ids.kids {
			list.CreateElement(x.s.notifyNS("SubscriptionId")).SetText(n.trimmed())
		}
	}
	m.CreateElement("m:ConnectionStatus").SetText("Closed")
}

// LoseEvents makes every subscription watching a mailbox (any of its
// addresses) lose the events queued for it: they are never delivered, and
// the subscription's next GetEvents, or its GetStreamingEvents connection
// (at once if one is open, else the next one), gets
// ErrorMissedNotificationEvents naming it. The subscriptions stay; events
// after the loss arrive as usual. It returns how many subscriptions lost
// events.
func (s *Server) LoseEvents(mailboxAddr string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.dir.lookupAddr(mailboxAddr)
	if mb == nil {
		return 0, fmt.Errorf("%w: LoseEvents: mailbox %q", ErrNotFound, mailboxAddr)
	}
	n := 0
	for sub := range s.subs.byBox[mb] {
		s.loseLocked(sub)
		n++
	}
	return n, nil
}

// LoseSubscriptionEvents is [Server.LoseEvents] for the named subscriptions
// only. An unknown id fails with ErrNotFound, and then no subscription
// loses events.
func (s *Server) LoseSubscriptionEvents(subscriptionIDs ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	subs, err := s.subsLocked("LoseSubscriptionEvents", subscriptionIDs)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		s.loseLocked(sub)
	}
	return nil
}

func (s *Server) loseLocked(sub *subscription) {
	seq := sub.box.Seq()
	sub.missed = true
	sub.lostTo = seq
	sub.seq = max(sub.seq, seq)
	if sub.conn != nil {
		sub.conn.poke()
	}
}

// subsLocked looks up subscriptions by id. Callers hold Server.mu.
func (s *Server) subsLocked(op string, ids []string) ([]*subscription, error) {
	s.subs.init()
	out := make([]*subscription, 0, len(ids))
	for _, id := range ids {
		sub := s.subs.byID[id]
		if sub == nil {
			return nil, fmt.Errorf("%w: %s: subscription %q", ErrNotFound, op, clip(id, 64))
		}
		out = append(out, sub)
	}
	return out, nil
}

// ExpireSubscriptions ends every subscription watching a mailbox, as when
// Exchange restarts or a subscription times out: the next GetEvents,
// GetStreamingEvents or Unsubscribe naming one gets
// ErrorSubscriptionNotFound, and an open GetStreamingEvents connection
// reports it at once (closing when it serves nothing else). The slots
// count no more against the subscription limit. It returns how many
// subscriptions ended.
func (s *Server) ExpireSubscriptions(mailboxAddr string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.dir.lookupAddr(mailboxAddr)
	if mb == nil {
		return 0, fmt.Errorf("%w: ExpireSubscriptions: mailbox %q", ErrNotFound, mailboxAddr)
	}
	n := 0
	for sub := range s.subs.byBox[mb] {
		s.subs.removeAs(sub, ews.ErrorSubscriptionNotFound)
		n++
	}
	return n, nil
}

// ExpireSubscription is [Server.ExpireSubscriptions] for the named
// subscriptions only. An unknown id fails with ErrNotFound, and then no
// subscription ends.
func (s *Server) ExpireSubscription(subscriptionIDs ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	subs, err := s.subsLocked("ExpireSubscription", subscriptionIDs)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		s.subs.removeAs(sub, ews.ErrorSubscriptionNotFound)
	}
	return nil
}

// DropStreams cuts the TCP connection of every open GetStreamingEvents
// stream at once, without a Closed envelope, as a network failure or a
// restarting front end does: the client's read fails in the middle of the
// stream. The subscriptions stay and may be opened again at once (the
// dropped connections no longer count against HangingConnectionLimit when
// DropStreams returns). It returns how many streams it cut.
func (s *Server) DropStreams() int {
	s.mu.Lock()
	var cut []net.Conn
	n := 0
	for c := range s.subs.conns {
		s.releaseStream(c)
		c.poke()
		if c.nc != nil {
			cut = append(cut, c.nc)
		}
		n++
	}
	s.mu.Unlock()
	for _, nc := range cut {
		_ = nc.Close()
	}
	if n > 0 {
		s.lmu.Lock()
		s.stats.Dropped += n
		s.lmu.Unlock()
	}
	return n
}

// OpenStreams returns how many GetStreamingEvents connections are open.
func (s *Server) OpenStreams() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.subs.conns)
}
