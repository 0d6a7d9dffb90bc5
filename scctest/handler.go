package scctest

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sccsync/scc/ews"
)

// exchange is the state of one EWS request being served.
type exchange struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	rec     *Request
	p       *principal
	op      string
	header  *node // soap:Header, may be nil
	body    *node // the operation element
	version string
	// impersonation
	impersonated bool
	aff          affinityRoute // backend of a notification request, see affinity.go
	acting       *mailbox      // mailbox the request acts as; nil for a service account
	// release gives back the request's EWSMaxConcurrency slot; safe to
	// call more than once.
	release func()
}

// releaseConcurrency gives back the request's EWSMaxConcurrency slot
// early (a GetStreamingEvents connection once it hangs).
func (x *exchange) releaseConcurrency() {
	if x.release != nil {
		x.release()
	}
}

// serveHTTP is the server's handler: IIS + EWS front end.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &Request{Time: s.now(), Method: r.Method, Path: r.URL.Path, AnchorMailbox: r.Header.Get("X-AnchorMailbox")}
	// The request is logged when its status is written (before the body,
	// so a client that has read the answer also finds it in the log), or at
	// the end if nothing was written.
	sw := &statusWriter{ResponseWriter: w}
	sw.onHeader = func(code int) {
		rec.StatusCode = code
		s.record(rec)
	}
	defer func() {
		if !sw.recorded {
			sw.recorded = true
			rec.StatusCode = 0
			s.record(rec)
		}
	}()
	defer s.recoverPanic(sw, rec)
	// The body, read by a handler or discarded by net/http after an early
	// answer (401, 404, ...), arrives within Timeouts.Body.
	s.setReadDeadline(sw, time.Now().Add(s.cfg.timeouts.Body))

	s.noteAuthorization(r)
	path := r.URL.Path
	if strings.HasPrefix(strings.ToLower(path), "/autodiscover/") {
		s.serveAutodiscover(sw, r, rec)
		return
	}
	if !strings.HasPrefix(strings.ToLower(path), "/ews/") {
		http.NotFound(sw, r)
		return
	}
	p := s.auth.authenticate(sw, r)
	if p == nil {
		return
	}
	rec.AuthScheme, rec.Principal = p.scheme, p.name
	if s.serveSchema(sw, r) {
		return
	}
	if !strings.EqualFold(path, EWSPath) {
		http.NotFound(sw, r)
		return
	}
	if s.ewsBlocked(p, nil) {
		forbidden(sw)
		return
	}
	if r.Method != http.MethodPost {
		sw.Header().Set("Allow", "POST")
		http.Error(sw, "405 - HTTP verb used to access this page is not allowed.", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "text/xml" {
		http.Error(sw, "415 - Unsupported Media Type: EWS takes text/xml; charset=utf-8.", http.StatusUnsupportedMediaType)
		return
	}
	release, ok := s.acquire(p.key())
	release = sync.OnceFunc(release)
	defer release()

	s.setReadDeadline(sw, time.Now().Add(s.cfg.timeouts.Body))
	raw, err := readBody(http.MaxBytesReader(sw, r.Body, s.cfg.maxReqSize), r.ContentLength, s.cfg.maxReqSize)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(sw, "413 - Request entity too large.", http.StatusRequestEntityTooLarge)
			return
		}
		// The client went away, was too slow (Timeouts.Body) or the
		// server is closing: cut the connection rather than let net/http
		// answer an empty 200.
		panic(http.ErrAbortHandler)
	}
	// No deadline while the request is served: net/http's background read
	// would otherwise cancel the request's context when it passes.
	s.setReadDeadline(sw, time.Time{})
	// Latency comes after the body, when net/http watches the connection
	// (its background read ends the request's context if the client goes
	// away), so that a client giving up during it is noticed.
	if !s.sleep(r, s.delay()) {
		abandon()
	}
	x := &exchange{s: s, w: w, r: r, rec: rec, p: p, release: release}
	if !ok {
		x.fault(sw, newFault(ews.ErrorExceededConnectionCount, ""))
		return
	}
	if f := x.parse(raw); f != nil {
		x.fault(sw, f)
		return
	}
	rec.Operation = x.op
	if f := s.pickFault(); !f.IsZero() {
		x.inject(sw, f)
		return
	}
	if f := x.impersonate(); f != nil {
		x.fault(sw, f)
		return
	}
	if x.acting != nil && s.ewsBlocked(p, x.acting) {
		forbidden(sw)
		return
	}
	call := Call{Operation: x.op, Impersonated: x.impersonated, Principal: p.name}
	if x.acting != nil {
		call.Mailbox = x.acting.info.PrimarySMTP
	}
	re := s.react(call, x.acting)
	if !s.sleep(r, re.Delay) {
		abandon()
	}
	if !re.Fault.IsZero() {
		x.inject(sw, re.Fault)
		return
	}
	x.dispatch(sw)
}

// abandon ends a request whose client went away while an injected delay
// held it: the operation does not run (a CreateItem creates nothing) and
// nothing is answered; the connection is closed and the log records status
// 0. Returning instead would let net/http answer an empty 200.
func abandon() { panic(http.ErrAbortHandler) }

// recoverPanic turns a panic of the code serving one request (an
// operation, a reactor, the fake's own bug) into the answer Exchange gives
// when it fails internally: a SOAP fault ErrorInternalServerError for that
// request alone. Locks are released by the defers of the code that took
// them, so the server keeps serving. When the answer was already under way
// the connection is cut instead. A server made with NewServer(t) reports
// the panic to t as a test failure.
func (s *Server) recoverPanic(sw *statusWriter, rec *Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	msg := fmt.Sprintf("scctest: panic serving %s %s (operation %q): %v\n%s", clip(rec.Method, 64), clip(rec.Path, 256), rec.Operation, v, debug.Stack())
	if s.tb != nil {
		s.tb.Errorf("%s", msg)
	}
	if l := s.cfg.logger; l != nil {
		l.Error("scctest handler panic", "operation", rec.Operation, "panic", fmt.Sprint(v))
	}
	if sw.status != 0 {
		panic(http.ErrAbortHandler)
	}
	rec.ResponseCodes = nil
	rec.Fault = ews.ErrorInternalServerError
	writeXML(sw, http.StatusInternalServerError, faultDocument(newFault(ews.ErrorInternalServerError, "")))
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status   int
	recorded bool // the request has been logged
	onHeader func(code int)
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if !w.recorded && w.onHeader != nil {
			w.recorded = true
			w.onHeader(code)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// forbidden answers 403 as Exchange Online does when EWS is blocked for the
// organisation, the mailbox or the application: no SOAP body.
func forbidden(w http.ResponseWriter) {
	w.Header().Set("X-Ms-Diagnostics", `2000004;reason="EWS is blocked for this organization, user or application.";error_category="access_denied"`)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusForbidden)
}

// ewsBlocked reports whether EWS is off for the tenant, the token's app, the
// caller's own mailbox or (mb != nil) the mailbox acted on.
func (s *Server) ewsBlocked(p *principal, mb *mailbox) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.dir.ewsOff {
		return true
	}
	if p.tok != nil && s.dir.blocked[strings.ToLower(p.tok.AppID)] {
		return true
	}
	if p.acc != nil && p.acc.mailbox != nil && p.acc.mailbox.ewsOff {
		return true
	}
	return mb != nil && mb.ewsOff
}

// fault answers a SOAP fault with HTTP 500.
func (x *exchange) fault(w http.ResponseWriter, f *soapFault) {
	x.rec.Fault = f.code
	writeXML(w, http.StatusInternalServerError, faultDocument(f))
}

// inject applies an injected fault.
func (x *exchange) inject(w http.ResponseWriter, f Fault) {
	switch f.kind {
	case faultSOAP:
		sf := newFault(f.code, f.message)
		if f.code == ews.ErrorServerBusy && f.backOff > 0 {
			sf.values = []nameValue{{"BackOffMilliseconds", strconv.FormatInt(f.backOff.Milliseconds(), 10)}}
		}
		x.fault(w, sf)
	case faultMessage:
		n := batchSize(x.op, x.body)
		resp := &opResponse{op: x.op}
		for range n {
			m := failure(f.code)
			if x.op == "GetStreamingEvents" {
				m.payload = x.streamErrorPayload
			}
			resp.messages = append(resp.messages, m)
		}
		x.respond(w, resp, nil)
	case faultStatus:
		w.Header().Set("Content-Length", "0")
		if f.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(f.status)
	case faultDrop:
		if conn, _, err := http.NewResponseController(x.w).Hijack(); err == nil {
			// Log before closing, so that a client seeing the error also
			// sees the entry.
			if sw, ok := w.(*statusWriter); ok && !sw.recorded {
				sw.recorded = true
				x.rec.StatusCode = 0
				x.s.record(x.rec)
			}
			_ = conn.Close()
			return
		}
		// HTTP/2 cannot hijack; fall back to aborting the handler.
		panic(http.ErrAbortHandler)
	}
}

// respond writes a non-fault response. Callers that read the store hold
// the lock while building; doc may be pre-built.
func (x *exchange) respond(w http.ResponseWriter, resp *opResponse, doc *document) {
	if doc == nil {
		doc = resp.document(x.s.vi)
	}
	for _, m := range resp.messages {
		c := m.code
		if c == "" {
			c = ews.NoError
		}
		x.rec.ResponseCodes = append(x.rec.ResponseCodes, c)
	}
	writeXML(w, http.StatusOK, doc)
}

// schemaFault is an ErrorSchemaValidation fault pointing at n: the line
// and column of its name, just after '<', as the .NET validator Exchange
// uses reports an element.
func schemaFault(n *node, violation string) *soapFault {
	f := newFault(ews.ErrorSchemaValidation, "The request failed schema validation: "+violation)
	f.violation = violation
	if l, c := n.position(); l > 0 {
		f.line, f.pos = l, c+1
	}
	return f
}

// parse checks the envelope, RequestServerVersion and the operation.
func (x *exchange) parse(raw []byte) *soapFault {
	root, xe := parseXML(raw)
	if xe != nil {
		f := newFault(ews.ErrorSchemaValidation, "The request failed schema validation: "+xe.msg)
		f.line, f.pos, f.violation = xe.line, xe.col, xe.msg
		return f
	}
	if !root.is(nsSOAP, "Envelope") {
		return schemaFault(root, fmt.Sprintf("The root element must be the SOAP 1.1 Envelope (%s), not {%s}%s.", nsSOAP, root.name.Space, root.name.Local))
	}
	var header, body *node
	for _, k := range root.kids {
		switch {
		case k.is(nsSOAP, "Header") && header == nil && body == nil:
			header = k
		case k.is(nsSOAP, "Body") && body == nil:
			body = k
		default:
			return schemaFault(k, fmt.Sprintf("The element {%s}%s is not expected in the SOAP Envelope.", k.name.Space, k.name.Local))
		}
	}
	if body == nil {
		return schemaFault(root, "The SOAP Envelope has no Body.")
	}
	if len(body.kids) != 1 {
		return schemaFault(body, fmt.Sprintf("The SOAP Body must hold exactly one operation element, not %d.", len(body.kids)))
	}
	op := body.kids[0]
	if op.name.Space != nsMessages || !strings.Contains(schemaOperations, " "+op.name.Local+" ") {
		return newFault(ews.ErrorInvalidRequest, "")
	}
	x.op, x.body = op.name.Local, op
	x.rec.Operation = x.op
	if header != nil {
		if rsv := header.child(nsTypes, "RequestServerVersion"); rsv != nil {
			v, ok := rsv.attr("Version")
			if !ok {
				return schemaFault(rsv, "The required attribute 'Version' is missing.")
			}
			x.version = v
			x.rec.RequestServerVersion = v
			if !x.s.vi.accepts(v) {
				if x.s.vi.unknownIsInvalidServerVersion {
					return newFault(ews.ErrorInvalidServerVersion, "")
				}
				return newFault(ews.ErrorInvalidRequest, "")
			}
		}
	}
	if f := validateRequest(op); f != nil {
		return f
	}
	if _, ok := operations(x.op); !ok {
		return newFault(ews.ErrorInvalidOperation, "scctest does not implement the "+x.op+" operation; see the scctest package documentation for the supported ones.")
	}
	x.header = header
	x.impersonated = header.child(nsTypes, "ExchangeImpersonation") != nil
	return nil
}

// readBody reads a request body into one buffer of its declared length
// (bounded by limit, which body enforces), growing only past a length
// that was absent or wrong.
func readBody(body io.Reader, declared, limit int64) ([]byte, error) {
	if declared <= 0 || declared > limit {
		return io.ReadAll(body)
	}
	// One byte more, so that the read that finds the end has room and a
	// body longer than declared shows (net/http refuses that anyway).
	buf := make([]byte, 0, declared+1)
	for {
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 4096)
		}
	}
}
