package ews

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beevik/etree"
)

// Reconnecting with the same subscription ids is what a client does after
// every Closed anyway, so opening a stream is safe to repeat.
var opGetStreamingEvents = &operation{name: "GetStreamingEvents", idempotent: true}

// Limits of GetStreamingEvents.
const (
	// MaxStreamingSubscriptions is how many subscription ids one
	// GetStreamingEvents connection may carry.
	MaxStreamingSubscriptions = 200
	// MaxConnectionTimeout is the longest ConnectionTimeout, and the
	// default.
	MaxConnectionTimeout = 30 * time.Minute
	// DefaultStreamIdleTimeout is how long a stream may stay silent (no
	// byte, not even an OK keep-alive) before the client gives up on it:
	// twice the EWS Managed API's 45-second heartbeat, as that library
	// does.
	DefaultStreamIdleTimeout = 90 * time.Second
	// streamOverrun is how long past ConnectionTimeout a stream may run
	// before the client ends it, for a server that never sends Closed.
	streamOverrun = time.Minute
)

var (
	// ErrStreamIdle is wrapped by the error of a stream that was silent
	// for longer than its IdleTimeout: the connection is presumed dead.
	// Open a new one.
	ErrStreamIdle = errors.New("ews: the event stream was silent for longer than its idle timeout")
	// ErrStreamClosed is returned by [EventStream.Next] after
	// [EventStream.Close].
	ErrStreamClosed = errors.New("ews: the event stream is closed")
	// ErrStreamDropped is wrapped by the error of a stream whose
	// connection ended before the server sent ConnectionStatus Closed: cut
	// by the server, a proxy or the network, between envelopes or inside
	// one. The subscriptions are not affected; open a new connection with
	// them at once, and resync what changed meanwhile if the server says
	// events were missed.
	ErrStreamDropped = errors.New("ews: the event stream's connection dropped before ConnectionStatus Closed")
	// errStreamOverrun ends a stream that outlived its ConnectionTimeout.
	errStreamOverrun = errors.New("the server kept the stream open past its ConnectionTimeout without sending Closed")
)

// ConnectionStatus is the m:ConnectionStatus of a GetStreamingEvents
// message.
type ConnectionStatus string

// The connection states.
const (
	// ConnectionOK is a keep-alive: the connection is open.
	ConnectionOK ConnectionStatus = "OK"
	// ConnectionClosed ends the stream (at ConnectionTimeout, or after an
	// error): open a new connection with the subscriptions still valid.
	ConnectionClosed ConnectionStatus = "Closed"
)

// GetStreamingEventsRequest is the input of [Client.GetStreamingEvents].
type GetStreamingEventsRequest struct {
	// SubscriptionIDs are streaming subscriptions of one affinity group, 1
	// to MaxStreamingSubscriptions. A subscription can be open on one
	// connection only: opening it elsewhere ends it here with
	// ErrorNewEventStreamConnectionOpened.
	SubscriptionIDs []string
	// ConnectionTimeout is how long the server keeps the connection open
	// before it sends Closed: whole minutes from 1 to 30; zero means
	// MaxConnectionTimeout.
	ConnectionTimeout time.Duration
	// IdleTimeout is how long the client waits for the next byte before it
	// declares the connection dead ([ErrStreamIdle]); zero means
	// DefaultStreamIdleTimeout. It also bounds the wait for the response
	// headers.
	IdleTimeout time.Duration
}

// StreamMessage is one message of a GetStreamingEvents stream: a keep-alive
// (ConnectionStatus OK and nothing else), notifications, a per-subscription
// error, or the Closed that ends the stream.
type StreamMessage struct {
	ResponseMessage
	// Notifications are the events that arrived, one Notification per
	// subscription.
	Notifications []Notification
	// ErrorSubscriptionIDs are the subscriptions an error is about.
	ErrorSubscriptionIDs []string
	// ConnectionStatus is OK, Closed, or empty.
	ConnectionStatus ConnectionStatus
	// Err is a *SubscriptionError when the server reported an error
	// (Class == ClassError): ErrorSubscriptionNotFound,
	// ErrorMissedNotificationEvents (the subscriptions stay; resync their
	// folders), ErrorNewEventStreamConnectionOpened (a newer connection
	// serves the subscriptions now), ErrorInvalidWatermark,
	// ErrorExpiredSubscription, ErrorExceededConnectionCount (the
	// connection was refused: too many open for the budget; it names no
	// subscription), ... When ConnectionStatus is not Closed the stream
	// goes on for the subscriptions not named.
	Err error
}

// EventStream reads one GetStreamingEvents connection: one long HTTP
// response that carries successive SOAP envelopes as events occur. Call
// Next until it returns io.EOF (the server closed the stream, reconnect with
// the same subscriptions) or another error (the connection failed), and
// Close when done. Next must not be called from several goroutines at once;
// Close may be called from any goroutine, and makes a blocked Next return.
type EventStream struct {
	body    io.ReadCloser
	reader  *envelopeReader
	cancel  context.CancelCauseFunc
	ctx     context.Context // the request's, to tell why a read failed
	timers  []*time.Timer
	pending []*StreamMessage
	err     error
	closed  atomic.Bool
	once    sync.Once
	red     *redactor
	// ServerVersion is the ServerVersionInfo of the first envelope that
	// carried one.
	ServerVersion *ServerVersionInfo
}

// streamingKey marks the context of a GetStreamingEvents request so that
// the wire trace does not wait for its endless body.
type streamingKey struct{}

func isStreaming(ctx context.Context) bool { return ctx.Value(streamingKey{}) != nil }

// GetStreamingEvents opens a GetStreamingEvents connection for up to
// MaxStreamingSubscriptions streaming subscriptions and returns the stream
// of their events. The returned error is about opening the connection (a
// fault, an HTTP error, a transport failure, an invalid request); what the
// server reports later arrives through [EventStream.Next].
//
// The connection stays open for req.ConnectionTimeout however the Client's
// HTTP timeout is set; ctx bounds it too. Each envelope may be as large as
// [WithMaxResponseBytes] allows. Use one connection per affinity group,
// opened with [Affinity] and impersonating the group's anchor mailbox.
func (c *Client) GetStreamingEvents(ctx context.Context, req *GetStreamingEventsRequest, opts ...CallOption) (*EventStream, error) {
	op := opGetStreamingEvents
	if ctx == nil {
		return nil, invalidf("%s: context is nil", op.name)
	}
	if req == nil {
		return nil, invalidf("%s: request is nil", op.name)
	}
	n := len(req.SubscriptionIDs)
	if n == 0 || n > MaxStreamingSubscriptions {
		return nil, invalidf("%s: %d subscription ids given; want 1 to %d per connection", op.name, n, MaxStreamingSubscriptions)
	}
	timeout := req.ConnectionTimeout
	if timeout == 0 {
		timeout = MaxConnectionTimeout
	}
	minutes, err := wholeMinutes(op.name, "ConnectionTimeout", timeout, MaxConnectionTimeout)
	if err != nil {
		return nil, err
	}
	idle := req.IdleTimeout
	if idle == 0 {
		idle = DefaultStreamIdleTimeout
	}
	if idle < 0 {
		return nil, invalidf("%s: IdleTimeout %v is negative", op.name, idle)
	}
	o, err := c.resolve(opts)
	if err != nil {
		return nil, err
	}
	if err := o.checkAffinity(op); err != nil {
		return nil, err
	}
	h := envelopeHeader{version: c.cfg.version, timeZone: c.cfg.timeZone}
	if o.impersonate {
		h.sid = &o.sid
	}
	payload, err := buildEnvelope(op, h, func(b *etree.Element) error {
		e := b.CreateElement("m:GetStreamingEvents")
		ids := e.CreateElement("m:SubscriptionIds")
		seen := make(map[string]bool, n)
		for i, id := range req.SubscriptionIDs {
			if seen[id] {
				return invalidf("%s: subscription id %q is given twice", op.name, clip(id))
			}
			seen[id] = true
			if err := writeSubscriptionID(op.name+": SubscriptionIds["+strconv.Itoa(i)+"]", ids, "t:SubscriptionId", id); err != nil {
				return err
			}
		}
		e.CreateElement("m:ConnectionTimeout").SetText(minutes)
		return nil
	})
	if err != nil {
		return nil, err
	}
	policy := c.cfg.retry
	if o.retry != nil {
		policy = *o.retry
	}
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		s, err := c.openStream(ctx, op, &o, payload, timeout, idle)
		if err == nil {
			return s, nil
		}
		wait, ok := policy.decide(ctx, op, attempt, waited, err)
		if !ok {
			return nil, err
		}
		if c.cfg.retryHook != nil {
			c.cfg.retryHook(RetryEvent{Operation: op.name, Attempt: attempt, Wait: wait, Err: err, Impersonated: o.sid})
		}
		if l := c.cfg.logger; l != nil {
			l.LogAttrs(ctx, slog.LevelWarn, "ews retry", slog.String("operation", op.name),
				slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()),
				slog.String("impersonated", impersonatedAttr(&o)))
		}
		if serr := sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("ews: %s: %w while waiting to retry after: %w", op.name, serr, err)
		}
		waited += wait
	}
}

// openStream sends the request once and, on HTTP 200, returns the stream;
// any other answer is read whole and interpreted like a normal call's.
func (c *Client) openStream(ctx context.Context, op *operation, o *callOptions, payload []byte, timeout, idle time.Duration) (*EventStream, error) {
	start := time.Now()
	sctx, cancel := context.WithCancelCause(context.WithValue(ctx, streamingKey{}, true))
	s := &EventStream{cancel: cancel, ctx: sctx, red: c.cfg.red}
	// The idle timer runs from the start, so it also bounds the wait for
	// the response headers; every byte read pushes it back.
	idleTimer := time.AfterFunc(idle, func() { cancel(ErrStreamIdle) })
	s.timers = []*time.Timer{idleTimer, time.AfterFunc(timeout+streamOverrun, func() { cancel(errStreamOverrun) })}
	fail := func(err error) (*EventStream, error) {
		s.stop()
		return nil, err
	}
	req, err := http.NewRequestWithContext(sctx, http.MethodPost, c.endpointStr, bytes.NewReader(payload))
	if err != nil {
		return fail(fmt.Errorf("ews: %s: %w", op.name, err))
	}
	req.Header = http.Header{
		"Content-Type": {"text/xml; charset=utf-8"},
		"Accept":       {"text/xml"},
		"User-Agent":   {c.cfg.userAgent},
	}
	if o.anchor != "" {
		req.Header["X-Anchormailbox"] = []string{o.anchor}
	}
	if o.affinity {
		req.Header["X-Preferserveraffinity"] = []string{"true"}
	}
	// The Client's HTTP timeout covers whole responses; this one lasts for
	// ConnectionTimeout, bounded by the timers above.
	hc := *c.http
	hc.Timeout = 0
	resp, err := o.do(&hc, req)
	if err != nil {
		c.logRequest(ctx, op, o, 1, 0, start, err)
		if cause := context.Cause(sctx); errors.Is(cause, ErrStreamIdle) && ctx.Err() == nil {
			err = fmt.Errorf("no response headers within %v: %w", idle, ErrStreamIdle)
		}
		return fail(&TransportError{Operation: op.name, MaybeSent: !dialFailed(err), Err: err, callerDone: ctx.Err() != nil})
	}
	ct := resp.Header.Get("Content-Type")
	if isXML, ctOK := xmlContent(ct, []byte("<")); resp.StatusCode != http.StatusOK || !isXML || !ctOK {
		defer resp.Body.Close()
		data, rerr := readBody(resp, c.cfg.maxResponseBytes)
		if rerr != nil && !errors.Is(rerr, ErrResponseTooLarge) {
			return fail(&TransportError{Operation: op.name, MaybeSent: true, callerDone: ctx.Err() != nil,
				Err: fmt.Errorf("HTTP %d response cut off after %d bytes: %w", resp.StatusCode, len(data), rerr)})
		}
		_, err := c.interpret(ctx, op, resp, data)
		if err == nil {
			err = &HTTPError{Operation: op.name, StatusCode: resp.StatusCode, ContentType: ct, Reason: "the response is not an event stream"}
		}
		c.logRequest(ctx, op, o, 1, resp.StatusCode, start, err)
		return fail(err)
	}
	c.logRequest(ctx, op, o, 1, resp.StatusCode, start, nil)
	s.body = resp.Body
	s.reader = newEnvelopeReader(resp.Body, c.cfg.maxResponseBytes, func() { idleTimer.Reset(idle) })
	return s, nil
}

func (s *EventStream) stop() {
	s.once.Do(func() {
		for _, t := range s.timers {
			t.Stop()
		}
		s.cancel(ErrStreamClosed)
		if s.body != nil {
			s.body.Close()
		}
	})
}

// Close ends the connection. It is safe to call more than once and from
// another goroutine than Next's.
func (s *EventStream) Close() error {
	s.closed.Store(true)
	s.stop()
	return nil
}

// Next returns the next message of the stream, waiting for it. After the
// message that carries ConnectionStatus Closed, Next returns io.EOF. A
// connection that breaks, goes silent past the idle timeout or sends
// something that is not a well-formed envelope ends the stream with an
// error (a *TransportError, or an *HTTPError for malformed or oversized
// envelopes, or a *FaultError); a truncated envelope is always such an
// error, never a partial message. A connection that ends before Closed
// (cut by the server or the network) is a transient *TransportError
// wrapping [ErrStreamDropped]. Errors about single subscriptions are in
// the message's Err.
func (s *EventStream) Next() (*StreamMessage, error) {
	if s.closed.Load() {
		return nil, ErrStreamClosed
	}
	if len(s.pending) > 0 {
		m := s.pending[0]
		s.pending = s.pending[1:]
		return m, nil
	}
	if s.err != nil {
		return nil, s.err
	}
	msgs, err := s.read()
	if err != nil {
		if s.closed.Load() {
			return nil, ErrStreamClosed
		}
		s.err = err
		s.stop()
		return nil, err
	}
	s.pending = msgs[1:]
	if msgs[len(msgs)-1].ConnectionStatus == ConnectionClosed {
		// What follows Closed, if anything, is not read.
		s.err = io.EOF
		s.stop()
	}
	return msgs[0], nil
}

// read returns the messages of the next envelope (at least one).
func (s *EventStream) read() ([]*StreamMessage, error) {
	for {
		soap, err := s.reader.next(s.ctx)
		if err != nil {
			return nil, s.red.redactError(s.streamErr(err))
		}
		soap.red = s.red
		if soap.serverVersion != nil && s.ServerVersion == nil {
			s.ServerVersion = soap.serverVersion
		}
		msgs, err := parseStreamEnvelope(soap)
		if err != nil {
			return nil, s.red.redactError(err)
		}
		if len(msgs) > 0 {
			return msgs, nil
		}
		// An envelope without messages says nothing; read on.
	}
}

// streamErr turns a read failure into the package's error types.
func (s *EventStream) streamErr(err error) error {
	op := opGetStreamingEvents.name
	var he *HTTPError
	if errors.As(err, &he) {
		return err
	}
	cause := context.Cause(s.ctx)
	switch {
	case errors.Is(cause, ErrStreamIdle):
		return &TransportError{Operation: op, MaybeSent: true, Err: fmt.Errorf("%w (%v)", ErrStreamIdle, err)}
	case errors.Is(cause, errStreamOverrun):
		return &TransportError{Operation: op, MaybeSent: true, Err: errStreamOverrun}
	case errors.Is(err, io.EOF):
		return &TransportError{Operation: op, MaybeSent: true,
			Err: fmt.Errorf("%w (between envelopes): %w", ErrStreamDropped, io.ErrUnexpectedEOF)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &TransportError{Operation: op, MaybeSent: true,
			Err: fmt.Errorf("%w (in the middle of the stream): %w", ErrStreamDropped, io.ErrUnexpectedEOF)}
	}
	var syn *xml.SyntaxError
	if errors.As(err, &syn) && !errors.Is(err, io.ErrUnexpectedEOF) && s.ctx.Err() == nil {
		return &HTTPError{Operation: op, StatusCode: 200, Reason: "the stream holds something that is not a well-formed SOAP envelope", Err: err}
	}
	if s.ctx.Err() != nil {
		callerDone := !errors.Is(cause, ErrStreamClosed)
		return &TransportError{Operation: op, MaybeSent: true, Err: err, callerDone: callerDone}
	}
	// A reset or otherwise failed read of a live stream: the connection
	// dropped.
	return &TransportError{Operation: op, MaybeSent: true, Err: fmt.Errorf("%w: %w", ErrStreamDropped, err)}
}

// parseStreamEnvelope returns the messages of one envelope of the stream.
func parseStreamEnvelope(soap *soapResponse) ([]*StreamMessage, error) {
	op := opGetStreamingEvents
	if f := soap.fault(); f != nil {
		fe := parseFault(f, op.name, http.StatusOK, soap.red)
		if fe.Code == ErrorServerBusy {
			d, _ := fe.MessageXML.backOff()
			return nil, &ThrottledError{Operation: op.name, BackOff: d, StatusCode: http.StatusOK, Err: fe}
		}
		return nil, fe
	}
	if soap.body.Tag != "GetStreamingEventsResponse" || soap.body.NamespaceURI() != NamespaceMessages {
		return nil, &HTTPError{Operation: op.name, StatusCode: 200, Reason: fmt.Sprintf("the stream holds %s instead of m:GetStreamingEventsResponse", clip(soap.body.Tag))}
	}
	var out []*StreamMessage
	for i, e := range soap.responseMessages() {
		m, err := parseStreamMessage(e, i, soap.red)
		if err != nil {
			return nil, &HTTPError{Operation: op.name, StatusCode: 200, Reason: err.Error()}
		}
		out = append(out, m)
	}
	return out, nil
}

func parseStreamMessage(e *etree.Element, index int, red *redactor) (*StreamMessage, error) {
	m := &StreamMessage{ResponseMessage: parseResponseMessage(e, red)}
	// The schema says t:Notification and t:SubscriptionId here, real
	// servers and Microsoft's samples m:; match by local name.
	if list := childLocal(e, "Notifications"); list != nil {
		for _, ne := range list.ChildElements() {
			if ne.Tag != "Notification" {
				continue
			}
			n, err := parseNotification(ne)
			if err != nil {
				return nil, err
			}
			m.Notifications = append(m.Notifications, n)
		}
	}
	if list := childLocal(e, "ErrorSubscriptionIds"); list != nil {
		for _, id := range list.ChildElements() {
			if id.Tag == "SubscriptionId" {
				if v := strings.TrimSpace(id.Text()); v != "" {
					m.ErrorSubscriptionIDs = append(m.ErrorSubscriptionIDs, v)
				}
			}
		}
	}
	if cs := childLocal(e, "ConnectionStatus"); cs != nil {
		m.ConnectionStatus = ConnectionStatus(strings.TrimSpace(cs.Text()))
		switch m.ConnectionStatus {
		case ConnectionOK, ConnectionClosed:
		default:
			return nil, fmt.Errorf("unknown ConnectionStatus %q", clip(string(m.ConnectionStatus)))
		}
	}
	if err := m.ResponseMessage.err(opGetStreamingEvents.name, index); err != nil {
		m.Err = &SubscriptionError{SubscriptionIDs: m.ErrorSubscriptionIDs, Err: err.(*ResponseError)}
	}
	return m, nil
}

// envelopeReader splits a stream of XML documents (SOAP envelopes with
// optional declarations and white space between them) into trees, holding
// at most one envelope (plus the decoder's buffer) in memory.
type envelopeReader struct {
	dec   *xml.Decoder
	src   *boundedReader
	limit int64
}

// boundedReader fails reads past limit bytes and reports progress.
type boundedReader struct {
	r        io.Reader
	n, limit int64
	progress func()
}

var errEnvelopeTooLarge = errors.New("envelope too large")

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n >= b.limit {
		return 0, errEnvelopeTooLarge
	}
	if rest := b.limit - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if n > 0 && b.progress != nil {
		b.progress()
	}
	return n, err
}

// decoderBuffer is what the XML decoder may have read ahead of the
// envelope it is on (its bufio.Reader's size).
const decoderBuffer = 4096

func newEnvelopeReader(r io.Reader, limit int64, progress func()) *envelopeReader {
	src := &boundedReader{r: r, limit: limit + decoderBuffer, progress: progress}
	dec := xml.NewDecoder(src)
	dec.Strict = true
	dec.CharsetReader = utf8Only
	return &envelopeReader{dec: dec, src: src, limit: limit}
}

// streamMaxElements bounds the elements of one envelope, far above a
// notification of 50 events for each of 200 subscriptions.
const streamMaxElements = 1 << 18

// next returns the next envelope, io.EOF at a clean end between envelopes,
// io.ErrUnexpectedEOF inside one, or why it is not a usable envelope.
func (r *envelopeReader) next(ctx context.Context) (*soapResponse, error) {
	op := opGetStreamingEvents.name
	start := r.dec.InputOffset()
	r.src.limit = start + r.limit + decoderBuffer
	tooLarge := func() error {
		return &HTTPError{Operation: op, StatusCode: 200, Err: ErrResponseTooLarge,
			Reason: fmt.Sprintf("an envelope of the stream is larger than the limit of %d bytes (WithMaxResponseBytes)", r.limit)}
	}
	b := newTreeBuilder(streamMaxElements, nil)
	for {
		tok, err := r.dec.RawToken()
		if err != nil {
			switch {
			case errors.Is(err, errEnvelopeTooLarge):
				return nil, tooLarge()
			case err == io.EOF && b.depth() == 0:
				return nil, io.EOF
			case err == io.EOF:
				return nil, io.ErrUnexpectedEOF
			}
			var syn *xml.SyntaxError
			if errors.As(err, &syn) && strings.Contains(syn.Msg, "unexpected EOF") {
				return nil, fmt.Errorf("%w: %v", io.ErrUnexpectedEOF, err)
			}
			return nil, err
		}
		if r.dec.InputOffset()-start > r.limit {
			return nil, tooLarge()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		malformed := func(format string, args ...any) error {
			return &HTTPError{Operation: op, StatusCode: 200, Reason: "the stream holds something that is not a well-formed SOAP envelope: " + fmt.Sprintf(format, args...)}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			_, err = b.start(t)
		case xml.EndElement:
			var e *etree.Element
			if e, err = b.end(t); err == nil && b.depth() == 0 {
				soap, err := envelopeOf(e)
				if err != nil {
					return nil, malformed("%v", err)
				}
				return soap, nil
			}
		case xml.CharData:
			if b.depth() == 0 && !isSpace(t) {
				return nil, malformed("text between envelopes")
			}
			err = b.chars(t)
		case xml.Directive:
			return nil, malformed("a DOCTYPE or other directive")
		}
		if err != nil {
			return nil, malformed("%v", err)
		}
	}
}
