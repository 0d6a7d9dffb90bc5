package scctest

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/sccsync/scc/ews"
)

// streamHeartbeat is how often an idle GetStreamingEvents connection gets
// a ConnectionStatus OK envelope (the EWS Managed API drops a connection
// silent for 90 s).
const streamHeartbeat = 30 * time.Second

// streamEvents implements GetStreamingEvents: one chunked HTTP response
// that carries a complete SOAP envelope per batch, OK heartbeats, and
// Closed at ConnectionTimeout. It runs outside the operation lock, taking
// the server lock only to read the subscriptions' queues.
func (x *exchange) streamEvents(w http.ResponseWriter) {
	s := x.s
	conn, minutes, resp, f := x.openStream()
	if f != nil {
		x.fault(w, f)
		return
	}
	if resp != nil {
		x.respond(w, resp, nil)
		return
	}
	defer func() {
		s.mu.Lock()
		s.releaseStream(conn)
		s.mu.Unlock()
	}()
	// A hanging connection has its own budget (HangingConnectionLimit),
	// not a slot of EWSMaxConcurrency.
	x.releaseConcurrency()
	wake := make(chan struct{}, 1)
	s.mu.RLock()
	subs := append([]*subscription(nil), conn.subs...)
	s.mu.RUnlock()
	for _, sub := range subs {
		ch, cancel := sub.box.Subscribe()
		defer cancel()
		go func() {
			for {
				select {
				case <-ch:
					select {
					case wake <- struct{}{}:
					default:
					}
				case <-x.r.Context().Done():
					return
				}
			}
		}()
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	x.rec.ResponseCodes = append(x.rec.ResponseCodes, ews.NoError)
	rc := http.NewResponseController(w)
	send := func(msgs ...responseMessage) bool {
		doc := (&opResponse{op: x.op, messages: msgs}).document(s.vi)
		var buf bytes.Buffer
		doc.WriteTo(&buf)
		if _, err := w.Write(buf.Bytes()); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	status := func(st string) responseMessage {
		return success(func(m *elem) { m.CreateElement("m:ConnectionStatus").SetText(st) })
	}
	if !send(status("OK")) {
		return
	}
	unit := s.subs.minute
	if unit == 0 {
		unit = time.Minute
	}
	deadline := time.NewTimer(time.Duration(minutes) * unit)
	defer deadline.Stop()
	beat := time.NewTicker(streamHeartbeat)
	defer beat.Stop()
	for {
		// Events logged before the connection opened are delivered first.
		s.mu.Lock()
		msgs, end := x.streamTurn(conn)
		s.mu.Unlock()
		if len(msgs) > 0 && !send(msgs...) || end {
			return
		}
		select {
		case <-wake:
		case <-conn.wake:
		case <-beat.C:
			if !send(status("OK")) {
				return
			}
		case <-deadline.C:
			send(status("Closed"))
			return
		case <-s.faults.closing:
			send(status("Closed"))
			return
		case <-x.r.Context().Done():
			return
		}
	}
}

// openStream validates the request and opens a connection for its
// subscriptions (attachStream). An answer other than a stream comes back as
// resp or f.
func (x *exchange) openStream() (conn *streamConn, minutes int, resp *opResponse, f *soapFault) {
	s := x.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opHook != nil {
		s.opHook(x.op)
	}
	ids := x.body.child(nsMessages, "SubscriptionIds")
	to := x.body.child(nsMessages, "ConnectionTimeout")
	if ids == nil || len(ids.kids) == 0 || to == nil {
		return nil, 0, nil, schemaFault(x.body, "The element 'GetStreamingEvents' has incomplete content. List of possible elements expected: 'SubscriptionIds, ConnectionTimeout'.")
	}
	minutes, err := strconv.Atoi(to.trimmed())
	if err != nil || minutes < 1 || minutes > 30 {
		return nil, 0, nil, schemaFault(to, "The 'ConnectionTimeout' element is invalid - The value '"+to.trimmed()+"' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:StreamingSubscriptionConnectionTimeoutType' - The MaxInclusive or MinInclusive constraint failed.")
	}
	var bad []string
	var subs []*subscription
	code := ews.ResponseCode("")
	for _, n := range ids.kids {
		id := n.trimmed()
		sub, c := x.lookupSub(id)
		if c == "" && sub.kind != subStreaming {
			c = ews.ErrorInvalidSubscription
		}
		if c != "" {
			bad = append(bad, id)
			if code == "" {
				code = c
			}
			continue
		}
		subs = append(subs, sub)
	}
	if len(bad) > 0 {
		return nil, 0, &opResponse{op: x.op, messages: []responseMessage{{code: code, payload: func(m *elem) {
			list := m.CreateElement("m:ErrorSubscriptionIds")
			for _, id := range bad {
				list.CreateElement(x.s.notifyNS("SubscriptionId")).SetText(id)
			}
			m.CreateElement("m:ConnectionStatus").SetText("Closed")
		}}}}, nil
	}
	conn, resp = x.attachStream(subs)
	return conn, minutes, resp, nil
}

// streamBatch takes the pending events of the subscriptions of a
// connection and returns the writer of their m:Notifications; ok is false
// when there are none. Callers hold Server.mu.
func (x *exchange) streamBatch(subs []*subscription) (write func(m *elem), ok bool) {
	s := x.s
	type batch struct {
		sub *subscription
		fn  func(*elem)
	}
	var out []batch
	for _, sub := range subs {
		events, end, _ := sub.pending(sub.seq, 0)
		sub.seq = end
		if len(events) == 0 {
			continue
		}
		out = append(out, batch{sub, func(n *elem) { writeNotification(n, sub, "", false, events, end) }})
	}
	if len(out) == 0 {
		return nil, false
	}
	return func(m *elem) {
		list := m.CreateElement("m:Notifications")
		for _, b := range out {
			b.fn(list.CreateElement(s.notifyNS("Notification")))
		}
	}, true
}

// notifyNS is the prefixed name of t:Notification and t:SubscriptionId in
// a streaming answer: m: as Exchange sends them (what real clients parse),
// t: as the schema has them with WithSchemaStrictStreaming.
func (s *Server) notifyNS(local string) string {
	if s.cfg.strictStream {
		return "t:" + local
	}
	return "m:" + local
}

// WithSchemaStrictStreaming makes GetStreamingEvents put Notification and
// SubscriptionId in the types namespace, as the published schema has
// them, instead of the messages namespace Exchange sends (and the EWS
// Managed API and exchangelib read). For schema validator runs.
func WithSchemaStrictStreaming() Option {
	return func(c *config) error {
		c.strictStream = true
		return nil
	}
}
