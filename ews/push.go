package ews

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/beevik/etree"
)

// SubscriptionStatus is the answer to a push notification
// (m:SendNotificationResult/m:SubscriptionStatus).
type SubscriptionStatus string

// The answers a push callback can give.
const (
	// PushOK keeps the subscription.
	PushOK SubscriptionStatus = "OK"
	// PushUnsubscribe ends the subscription: the server sends no more.
	PushUnsubscribe SubscriptionStatus = "Unsubscribe"
)

// DefaultPushMaxBodyBytes is the largest push request a [PushHandler]
// accepts unless [WithPushMaxBodyBytes] says otherwise.
const DefaultPushMaxBodyBytes = 4 << 20

// PushMessage is one message of a push notification
// (m:SendNotificationResponseMessage).
type PushMessage struct {
	ResponseMessage
	// Notification holds the events; a lone StatusEvent is the server's
	// periodic "still here" (every StatusFrequency).
	Notification Notification
	// Err is a *SubscriptionError when the server reported an error for
	// the subscription (Class == ClassError), nil otherwise.
	Err error
}

// PushFunc handles one push message and says whether the subscription
// should go on. It runs on the HTTP request's goroutine, with the
// request's context; the server waits for the answer, so it should hand
// the work off and return quickly. Return PushUnsubscribe to end the
// subscription, for example when Notification.SubscriptionID is not one
// the caller knows; any other value, the zero value included, answers OK.
type PushFunc func(ctx context.Context, m *PushMessage) SubscriptionStatus

// PushHandler is an http.Handler for the URL of push subscriptions: it
// validates each POST from Exchange (a SOAP 1.1 envelope whose body is
// m:SendNotification), calls its PushFunc for every message and answers
// HTTP 200 with m:SendNotificationResult. Requests that are not push
// notifications get an HTTP error status and never reach the PushFunc.
// A PushHandler is safe for concurrent use.
//
// Exchange does not authenticate to the callback: serve it over HTTPS at a
// path that holds an unguessable token, and check the subscription id.
type PushHandler struct {
	fn       PushFunc
	maxBytes int64
	logger   *slog.Logger
}

// PushOption configures a PushHandler in [NewPushHandler].
type PushOption func(*PushHandler) error

// WithPushMaxBodyBytes limits the size of a push request (default
// [DefaultPushMaxBodyBytes]); larger ones are refused with HTTP 413.
func WithPushMaxBodyBytes(n int64) PushOption {
	return func(h *PushHandler) error {
		if n < 1024 {
			return fmt.Errorf("ews: WithPushMaxBodyBytes(%d): want at least 1024", n)
		}
		h.maxBytes = n
		return nil
	}
}

// WithPushLogger logs refused requests and callback panics (Warn). Without
// it the handler is silent.
func WithPushLogger(l *slog.Logger) PushOption {
	return func(h *PushHandler) error {
		if l == nil {
			return errors.New("ews: WithPushLogger: logger is nil")
		}
		h.logger = l
		return nil
	}
}

// NewPushHandler returns a handler that passes push notifications to fn.
func NewPushHandler(fn PushFunc, opts ...PushOption) (*PushHandler, error) {
	if fn == nil {
		return nil, errors.New("ews: NewPushHandler: PushFunc is nil")
	}
	h := &PushHandler{fn: fn, maxBytes: DefaultPushMaxBodyBytes}
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("ews: NewPushHandler: option %d is nil", i)
		}
		if err := opt(h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// ServeHTTP answers one push notification.
func (h *PushHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, format string, args ...any) {
		msg := "ews: push notification refused: " + fmt.Sprintf(format, args...)
		if h.logger != nil {
			h.logger.LogAttrs(r.Context(), slog.LevelWarn, "ews push refused", slog.Int("status", status), slog.String("error", msg))
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		io.WriteString(w, msg+"\n")
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(http.StatusMethodNotAllowed, "method %s; Exchange POSTs notifications", clip(r.Method))
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			refuse(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", h.maxBytes)
			return
		}
		refuse(http.StatusBadRequest, "reading the body: %v", err)
		return
	}
	if isXML, ok := xmlContent(r.Header.Get("Content-Type"), data); !ok || !isXML {
		refuse(http.StatusUnsupportedMediaType, "content type %q with a body that is not XML; want text/xml", clip(r.Header.Get("Content-Type")))
		return
	}
	msgs, err := parsePush(r.Context(), data)
	if err != nil {
		refuse(http.StatusBadRequest, "%v", err)
		return
	}
	status := PushOK
	for _, m := range msgs {
		answer, err := h.call(r.Context(), m)
		if err != nil {
			if h.logger != nil {
				h.logger.LogAttrs(r.Context(), slog.LevelWarn, "ews push callback failed", slog.String("error", err.Error()))
			}
			// Exchange retries a push that fails, so nothing is lost.
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "ews: push notification not handled\n")
			return
		}
		if answer == PushUnsubscribe {
			status = PushUnsubscribe
		}
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(pushResult(status))
}

// call runs the PushFunc, turning a panic into an error.
func (h *PushHandler) call(ctx context.Context, m *PushMessage) (status SubscriptionStatus, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("ews: PushFunc panicked: %v", p)
		}
	}()
	return h.fn(ctx, m), nil
}

// parsePush validates a SendNotification envelope and returns its messages.
func parsePush(ctx context.Context, data []byte) ([]*PushMessage, error) {
	rd := newEnvelopeReader(bytes.NewReader(data), int64(len(data))+1, nil)
	soap, err := rd.next(ctx)
	if err != nil {
		return nil, fmt.Errorf("the body is not a well-formed SOAP 1.1 envelope (%v)", err)
	}
	if _, err := rd.next(ctx); err != io.EOF {
		return nil, errors.New("the body holds more than one XML document")
	}
	if soap.body.Tag != "SendNotification" || soap.body.NamespaceURI() != NamespaceMessages {
		return nil, fmt.Errorf("the SOAP body holds %s instead of m:SendNotification", clip(soap.body.Tag))
	}
	elems := soap.responseMessages()
	if len(elems) == 0 {
		return nil, errors.New("m:SendNotification has no response messages")
	}
	out := make([]*PushMessage, 0, len(elems))
	for i, e := range elems {
		if e.Tag != "SendNotificationResponseMessage" || e.NamespaceURI() != NamespaceMessages {
			return nil, fmt.Errorf("response message %d is %s, not m:SendNotificationResponseMessage", i, clip(e.Tag))
		}
		m := &PushMessage{ResponseMessage: parseResponseMessage(e, nil)}
		ne := childLocal(e, "Notification")
		if ne == nil {
			return nil, fmt.Errorf("response message %d has no Notification", i)
		}
		if m.Notification, err = parseNotification(ne); err != nil {
			return nil, fmt.Errorf("response message %d: %v", i, err)
		}
		if len(m.Notification.Events) == 0 {
			return nil, fmt.Errorf("response message %d: the notification has no events", i)
		}
		if err := m.ResponseMessage.err("SendNotification", i); err != nil {
			m.Err = &SubscriptionError{SubscriptionIDs: []string{m.Notification.SubscriptionID}, Err: err.(*ResponseError)}
		}
		out = append(out, m)
	}
	return out, nil
}

// pushResult returns the SendNotificationResult envelope.
func pushResult(status SubscriptionStatus) []byte {
	env := etree.NewElement("soap:Envelope")
	env.CreateAttr("xmlns:soap", NamespaceSOAP)
	env.CreateAttr("xmlns:m", NamespaceMessages)
	env.CreateElement("soap:Body").CreateElement("m:SendNotificationResult").
		CreateElement("m:SubscriptionStatus").SetText(string(status))
	var buf bytes.Buffer
	buf.WriteString(xmlDeclaration)
	env.WriteTo(&buf, &etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true})
	return buf.Bytes()
}
