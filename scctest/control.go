package scctest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
)

// ControlHandler returns an HTTP handler that drives s with JSON, for test
// suites that are not written in Go (the standalone fake serves it with
// -control). Paths, all under /v1/:
//
//	GET    /v1/mailboxes            the mailboxes (never passwords)
//	POST   /v1/seed                 add what a SeedFile holds (mailboxes, items, accounts, tokens)
//	POST   /v1/items                {"mailbox": ..., "folder": "inbox", "subject": ..., ...} (a SeedItem)
//	GET    /v1/items?mailbox=A&folder=F
//	POST   /v1/accounts/password    {"logon": ..., "password": ...}
//	POST   /v1/accounts/grant       {"logon": ..., "impersonate": "all" | "none" | [mailboxes]}
//	POST   /v1/accounts/unlock      {"logon": ...}
//	POST   /v1/faults               {"fault": {...}, "operation": ..., "mailbox": ..., "call": n, "times": n}
//	DELETE /v1/faults               ClearFaults
//	PUT    /v1/latency              {"fixed": "50ms", "jitter": "10ms"}
//	GET    /v1/requests             the request log
//	DELETE /v1/requests             ResetRequests
//	GET    /v1/stats                the counters
//	POST   /v1/notifications/drop-streams   {}: cut every open GetStreamingEvents stream ({"dropped": n})
//	POST   /v1/notifications/expire         {"mailbox": ...}: end its subscriptions ({"expired": n})
//	POST   /v1/notifications/lose-events    {"mailbox": ...}: its subscriptions lose their queued events ({"lost": n})
//
// A fault is {"type": "ServerBusy", "backOffMs": 1000}, {"type":
// "SOAPFault", "code": "ErrorX", "message": "..."}, {"type": "MessageError",
// "code": "ErrorX"}, {"type": "HTTPStatus", "status": 503} or {"type":
// "DropConnection"}; see [Server.Inject] for the conditions. Answers are
// JSON; a failure is {"error": "..."} with 400 (bad input), 404 (unknown
// mailbox, account or path), 405 or 409 (already exists).
//
// The handler has no authentication: serve it on loopback only. Against
// web pages on the same machine it refuses requests whose Host is not an
// IP address or localhost (DNS rebinding) and bodies that are not
// application/json (which browsers cannot send across origins without a
// preflight it does not answer).
func ControlHandler(s *Server) http.Handler {
	c := &control{s: s}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/mailboxes", c.mailboxes)
	mux.HandleFunc("POST /v1/seed", c.seed)
	mux.HandleFunc("POST /v1/items", c.addItem)
	mux.HandleFunc("GET /v1/items", c.items)
	mux.HandleFunc("POST /v1/accounts/password", c.password)
	mux.HandleFunc("POST /v1/accounts/grant", c.grant)
	mux.HandleFunc("POST /v1/accounts/unlock", c.unlock)
	mux.HandleFunc("POST /v1/faults", c.inject)
	mux.HandleFunc("DELETE /v1/faults", c.clearFaults)
	mux.HandleFunc("PUT /v1/latency", c.latency)
	mux.HandleFunc("GET /v1/requests", c.requests)
	mux.HandleFunc("DELETE /v1/requests", c.resetRequests)
	mux.HandleFunc("GET /v1/stats", c.stats)
	mux.HandleFunc("POST /v1/notifications/drop-streams", c.dropStreams)
	mux.HandleFunc("POST /v1/notifications/expire", c.notificationFault("expired", s.ExpireSubscriptions))
	mux.HandleFunc("POST /v1/notifications/lose-events", c.notificationFault("lost", s.LoseEvents))
	return c.guard(mux)
}

type control struct{ s *Server }

// maxControlBody bounds a control request body.
const maxControlBody = 4 << 20

// guard refuses requests that a web page could have made, and answers the
// mux's plain-text errors as JSON.
func (c *control) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !safeHost(r.Host) {
			writeControlError(w, http.StatusForbidden, fmt.Errorf("scctest control: Host %q is not an IP address or localhost; the control API answers only those (against DNS rebinding)", r.Host))
			return
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeControlError(w, http.StatusUnsupportedMediaType, errors.New("scctest control: send the body as Content-Type: application/json"))
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxControlBody)
		next.ServeHTTP(&jsonErrors{ResponseWriter: w}, r)
	})
}

// jsonErrors rewrites the mux's own text answers (404, 405) into the JSON
// error shape.
type jsonErrors struct {
	http.ResponseWriter
	rewrote bool
}

func (j *jsonErrors) WriteHeader(code int) {
	if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) && j.Header().Get("Content-Type") != "application/json" {
		j.rewrote = true
		msg := "scctest control: no such path; see the ControlHandler documentation"
		if code == http.StatusMethodNotAllowed {
			msg = "scctest control: method not allowed here (allowed: " + j.Header().Get("Allow") + ")"
		}
		writeControlError(j.ResponseWriter, code, errors.New(msg))
		return
	}
	j.ResponseWriter.WriteHeader(code)
}

func (j *jsonErrors) Write(b []byte) (int, error) {
	if j.rewrote {
		return len(b), nil
	}
	return j.ResponseWriter.Write(b)
}

// safeHost reports whether a Host header is "localhost" or an IP address:
// names that DNS rebinding cannot point elsewhere.
func safeHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"scctest control: encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeControlError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// fail answers err with the status its kind calls for.
func fail(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrDuplicate):
		status = http.StatusConflict
	}
	writeControlError(w, status, err)
}

// decode reads a JSON body into v, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: scctest control: request body: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: scctest control: request body: more than one JSON value", ErrInvalid)
	}
	return nil
}

// controlMailbox is a mailbox as the control API shows it.
type controlMailbox struct {
	PrimarySMTP    string   `json:"primarySmtp"`
	ProxyAddresses []string `json:"proxyAddresses,omitempty"`
	UPN            string   `json:"upn"`
	SID            string   `json:"sid"`
	DisplayName    string   `json:"displayName"`
}

func (c *control) mailboxes(w http.ResponseWriter, _ *http.Request) {
	out := []controlMailbox{}
	for _, m := range c.s.Mailboxes() {
		out = append(out, controlMailbox{m.PrimarySMTP, m.ProxyAddresses, m.UPN, m.SID, m.DisplayName})
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *control) seed(w http.ResponseWriter, r *http.Request) {
	if err := c.s.Seed(r.Body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeControlError(w, http.StatusRequestEntityTooLarge, err)
			return
		}
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{})
}

type controlItem struct {
	Mailbox string `json:"mailbox"`
	SeedItem
}

type controlItemID struct {
	ID        string `json:"id"`
	ChangeKey string `json:"changeKey"`
}

func (c *control) addItem(w http.ResponseWriter, r *http.Request) {
	var in controlItem
	if err := decode(r, &in); err != nil {
		fail(w, err)
		return
	}
	id, err := c.s.AddItem(in.Mailbox, in.Folder, in.message())
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, controlItemID{id.ID, id.ChangeKey})
}

func (it SeedItem) message() Message {
	return Message{Subject: it.Subject, Body: it.Body, BodyType: BodyType(it.BodyType), From: it.From, To: it.To, Cc: it.Cc, IsRead: it.IsRead, Received: it.Received}
}

type controlItemOut struct {
	controlItemID
	SeedItem
}

func (c *control) items(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	items, err := c.s.Items(q.Get("mailbox"), q.Get("folder"))
	if err != nil {
		fail(w, err)
		return
	}
	out := []controlItemOut{}
	for _, it := range items {
		out = append(out, controlItemOut{controlItemID{it.ID, it.ChangeKey}, SeedItem{
			Folder: it.Folder, Subject: it.Subject, Body: it.Body, BodyType: string(it.BodyType), From: it.From,
			To: it.To, Cc: it.Cc, IsRead: it.IsRead, Received: it.Received,
		}})
	}
	writeJSON(w, http.StatusOK, out)
}

type controlAccount struct {
	Logon       string          `json:"logon"`
	Password    string          `json:"password,omitempty"`
	Impersonate json.RawMessage `json:"impersonate,omitempty"`
}

// account decodes a controlAccount and checks it names an account.
func (c *control) account(w http.ResponseWriter, r *http.Request) (controlAccount, bool) {
	var in controlAccount
	if err := decode(r, &in); err != nil {
		fail(w, err)
		return in, false
	}
	if strings.TrimSpace(in.Logon) == "" {
		fail(w, fmt.Errorf("%w: scctest control: logon is required", ErrInvalid))
		return in, false
	}
	return in, true
}

func (c *control) password(w http.ResponseWriter, r *http.Request) {
	in, ok := c.account(w, r)
	if !ok {
		return
	}
	if err := c.s.SetPassword(in.Logon, in.Password); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{})
}

func (c *control) grant(w http.ResponseWriter, r *http.Request) {
	in, ok := c.account(w, r)
	if !ok {
		return
	}
	if len(in.Impersonate) == 0 {
		fail(w, fmt.Errorf("%w: scctest control: impersonate is required (\"all\", \"none\" or a list of mailboxes)", ErrInvalid))
		return
	}
	g, err := parseSeedGrant(in.Impersonate)
	if err == nil {
		err = c.s.SetGrant(in.Logon, g)
	}
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{})
}

func (c *control) unlock(w http.ResponseWriter, r *http.Request) {
	in, ok := c.account(w, r)
	if !ok {
		return
	}
	if err := c.s.Unlock(in.Logon); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{})
}

// controlFault is a fault as JSON.
type controlFault struct {
	Type      string `json:"type"`
	BackOffMs int64  `json:"backOffMs,omitempty"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message,omitempty"`
	Status    int    `json:"status,omitempty"`
}

func (f controlFault) fault() (Fault, error) {
	code := ews.ResponseCode(f.Code)
	needCode := func() error {
		if !code.Known() || code == ews.NoError {
			return fmt.Errorf("%w: scctest control: fault %s needs a known EWS error code, not %q", ErrInvalid, f.Type, f.Code)
		}
		return nil
	}
	switch f.Type {
	case "ServerBusy":
		if f.BackOffMs < 0 {
			return Fault{}, fmt.Errorf("%w: scctest control: backOffMs %d is negative", ErrInvalid, f.BackOffMs)
		}
		return ServerBusy(time.Duration(f.BackOffMs) * time.Millisecond), nil
	case "SOAPFault":
		if err := needCode(); err != nil {
			return Fault{}, err
		}
		return SOAPFault(code, f.Message), nil
	case "MessageError":
		if err := needCode(); err != nil {
			return Fault{}, err
		}
		return MessageError(code), nil
	case "HTTPStatus":
		if f.Status < 400 || f.Status > 599 {
			return Fault{}, fmt.Errorf("%w: scctest control: HTTPStatus status %d: want 400 to 599", ErrInvalid, f.Status)
		}
		return HTTPStatus(f.Status), nil
	case "DropConnection":
		return DropConnection(), nil
	}
	return Fault{}, fmt.Errorf("%w: scctest control: fault type %q: want ServerBusy, SOAPFault, MessageError, HTTPStatus or DropConnection", ErrInvalid, f.Type)
}

type controlInjection struct {
	Fault     controlFault `json:"fault"`
	Operation string       `json:"operation,omitempty"`
	Mailbox   string       `json:"mailbox,omitempty"`
	Call      int          `json:"call,omitempty"`
	Times     int          `json:"times,omitempty"`
}

func (c *control) inject(w http.ResponseWriter, r *http.Request) {
	var in controlInjection
	if err := decode(r, &in); err != nil {
		fail(w, err)
		return
	}
	f, err := in.Fault.fault()
	if err != nil {
		fail(w, err)
		return
	}
	var when []Condition
	if in.Operation != "" {
		when = append(when, ForOperation(in.Operation))
	}
	if in.Mailbox != "" {
		when = append(when, ForMailbox(in.Mailbox))
	}
	if in.Call != 0 {
		when = append(when, OnCall(in.Call))
	}
	if in.Times != 0 {
		when = append(when, Times(in.Times))
	}
	if err := c.s.Inject(f, when...); err != nil {
		writeControlError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{})
}

func (c *control) clearFaults(w http.ResponseWriter, _ *http.Request) {
	c.s.ClearFaults()
	writeJSON(w, http.StatusOK, map[string]string{})
}

type controlLatency struct {
	Fixed  string `json:"fixed"`
	Jitter string `json:"jitter,omitempty"`
}

func (c *control) latency(w http.ResponseWriter, r *http.Request) {
	var in controlLatency
	if err := decode(r, &in); err != nil {
		fail(w, err)
		return
	}
	var d [2]time.Duration
	for i, v := range []string{in.Fixed, in.Jitter} {
		if v == "" {
			continue
		}
		x, err := time.ParseDuration(v)
		if err != nil || x < 0 {
			fail(w, fmt.Errorf("%w: scctest control: latency %q: want a duration of 0 or more such as \"50ms\"", ErrInvalid, v))
			return
		}
		d[i] = x
	}
	c.s.SetLatency(d[0], d[1])
	writeJSON(w, http.StatusOK, map[string]string{})
}

func (c *control) requests(w http.ResponseWriter, _ *http.Request) {
	out := c.s.Requests()
	if out == nil {
		out = []Request{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *control) resetRequests(w http.ResponseWriter, _ *http.Request) {
	c.s.ResetRequests()
	writeJSON(w, http.StatusOK, map[string]string{})
}

func (c *control) stats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, c.s.Stats())
}

// dropStreams is [Server.DropStreams]; its body is {} (a POST always
// carries JSON, see ControlHandler).
func (c *control) dropStreams(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if err := decode(r, &in); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"dropped": c.s.DropStreams()})
}

// notificationFault serves {"mailbox": ...} with f ([Server.ExpireSubscriptions]
// or [Server.LoseEvents]), answering {key: n}.
func (c *control) notificationFault(key string, f func(mailbox string) (int, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Mailbox string `json:"mailbox"`
		}
		if err := decode(r, &in); err != nil {
			fail(w, err)
			return
		}
		if strings.TrimSpace(in.Mailbox) == "" {
			fail(w, fmt.Errorf("%w: scctest control: mailbox is required", ErrInvalid))
			return
		}
		n, err := f(in.Mailbox)
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{key: n})
	}
}
