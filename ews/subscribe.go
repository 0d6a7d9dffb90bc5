package ews

import (
	"context"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Subscribe creates server state, so it is not repeated after an ambiguous
// failure (a repeat would leave a second subscription behind). Unsubscribe
// is safe to repeat: the worst a repeat gets is ErrorSubscriptionNotFound.
// GetEvents is not repeated either: the server drops the events it returns,
// so the caller, who holds the watermark, decides.
var (
	opSubscribe   = &operation{name: "Subscribe", idempotent: false}
	opUnsubscribe = &operation{name: "Unsubscribe", idempotent: true}
	opGetEvents   = &operation{name: "GetEvents", idempotent: false}
)

// SubscriptionKind is how a subscription delivers its events.
type SubscriptionKind string

// The subscription kinds.
const (
	// PullSubscription: the client asks with [Client.GetEvents].
	PullSubscription SubscriptionKind = "Pull"
	// PushSubscription: the server POSTs notifications to a URL, answered
	// by a [PushHandler].
	PushSubscription SubscriptionKind = "Push"
	// StreamingSubscription: the client holds a
	// [Client.GetStreamingEvents] connection open.
	StreamingSubscription SubscriptionKind = "Streaming"
)

// SubscriptionScope is what a subscription watches and for which events:
// the part every kind of Subscribe request shares.
type SubscriptionScope struct {
	// FolderIDs are the folders to watch, all in one mailbox (with
	// impersonation, the impersonated one). Leave it empty with AllFolders.
	FolderIDs []FolderID
	// AllFolders watches every folder of the mailbox
	// (SubscribeToAllFolders); it counts as one subscription against the
	// server's limit, where each listed folder of another mailbox would
	// count on its own.
	AllFolders bool
	// EventTypes are the events to report, at least one; see
	// [AllEventTypes].
	EventTypes []EventType
}

// write appends t:FolderIds and t:EventTypes and sets
// SubscribeToAllFolders on req.
func (s *SubscriptionScope) write(op string, req *etree.Element) error {
	switch {
	case s.AllFolders && len(s.FolderIDs) > 0:
		return invalidf("%s: both AllFolders and %d FolderIDs given; choose one", op, len(s.FolderIDs))
	case !s.AllFolders && len(s.FolderIDs) == 0:
		return invalidf("%s: no folders given; set FolderIDs or AllFolders", op)
	case len(s.EventTypes) == 0:
		return invalidf("%s: no EventTypes given; use ews.AllEventTypes() for every event", op)
	}
	if s.AllFolders {
		req.CreateAttr("SubscribeToAllFolders", "true")
	} else {
		list := req.CreateElement("t:FolderIds")
		for i, id := range s.FolderIDs {
			if err := id.write(op, "FolderIds["+strconv.Itoa(i)+"]", list); err != nil {
				return err
			}
		}
	}
	types := req.CreateElement("t:EventTypes")
	for _, t := range s.EventTypes {
		if !t.subscribable() {
			return invalidf("%s: event type %q cannot be subscribed to; use the constants such as ews.EventCreated", op, clip(string(t)))
		}
		types.CreateElement("t:EventType").SetText(string(t))
	}
	return nil
}

// Limits of the schema (minutes).
const (
	// MaxSubscriptionTimeout is the longest Timeout of a pull subscription
	// and StatusFrequency of a push subscription: 1440 minutes.
	MaxSubscriptionTimeout = 1440 * time.Minute
	// DefaultStatusFrequency is the StatusFrequency of a push subscription
	// that does not set one, as the docs give it.
	DefaultStatusFrequency = 30 * time.Minute
)

// wholeMinutes checks that d is a whole number of minutes within 1..max.
func wholeMinutes(op, field string, d, maxD time.Duration) (string, error) {
	if d < time.Minute || d > maxD || d%time.Minute != 0 {
		return "", invalidf("%s: %s %v is not a whole number of minutes from 1 to %d", op, field, d, int(maxD/time.Minute))
	}
	return strconv.Itoa(int(d / time.Minute)), nil
}

func writeWatermark(op string, parent *etree.Element, wm string) error {
	if wm == "" {
		return nil
	}
	if strings.TrimSpace(wm) != wm {
		return invalidf("%s: Watermark has leading or trailing white space; pass it back exactly as the server sent it", op)
	}
	if err := checkText(op, "Watermark", wm); err != nil {
		return err
	}
	parent.CreateElement("t:Watermark").SetText(wm)
	return nil
}

// PullSubscriptionRequest is the input of [Client.SubscribePull].
type PullSubscriptionRequest struct {
	SubscriptionScope
	// Watermark, when set, resumes from a watermark of an earlier
	// subscription of the same mailbox (at most about 30 days old, else
	// ErrorInvalidWatermark). Microsoft recommends a new subscription
	// without a watermark plus a sync instead, which is cheaper for the
	// server.
	Watermark string
	// Timeout is how long the subscription lives without a GetEvents call:
	// whole minutes from 1 to 1440. Required.
	Timeout time.Duration
}

// PushSubscriptionRequest is the input of [Client.SubscribePush].
type PushSubscriptionRequest struct {
	SubscriptionScope
	// Watermark resumes from an earlier watermark, as for pull.
	Watermark string
	// StatusFrequency is how often the server posts a StatusEvent when
	// nothing happens, and bounds its retries of failed posts: whole
	// minutes from 1 to 1440; zero means DefaultStatusFrequency.
	StatusFrequency time.Duration
	// URL is where the server POSTs notifications (an http or https URL of
	// at most 2082 characters, reachable from the Exchange server); serve
	// it with a [PushHandler] before subscribing, since the first post
	// comes at once. Put an unguessable token in the path: the callback
	// cannot otherwise tell Exchange from anyone else.
	URL string
	// CallerData is an optional string the server returns with each
	// notification.
	CallerData string
}

// StreamingSubscriptionRequest is the input of [Client.SubscribeStreaming].
// Streaming subscriptions take no watermark and no timeout.
type StreamingSubscriptionRequest struct {
	SubscriptionScope
}

// Subscription is a created subscription.
type Subscription struct {
	Kind SubscriptionKind
	// ID is the subscription id to pass to GetEvents, GetStreamingEvents
	// and Unsubscribe.
	ID string
	// Watermark is the starting watermark of a pull or push subscription
	// (streaming subscriptions have none).
	Watermark string
}

// SubscribePull runs EWS Subscribe for a pull subscription: events queue on
// the server until [Client.GetEvents] fetches them. Errors of the
// subscription come back as a *ResponseError, among them
// ErrorExceededSubscriptionCount (too many subscriptions for the mailbox:
// impersonate the mailbox so that its own budget is charged, prefer
// AllFolders), ErrorInvalidSubscriptionRequest (folders of several
// mailboxes), ErrorInvalidWatermark (subscribe without it and resync),
// ErrorSubscriptionDelegateAccessNotSupported (use impersonation).
func (c *Client) SubscribePull(ctx context.Context, req *PullSubscriptionRequest, opts ...CallOption) (*Subscription, error) {
	if req == nil {
		return nil, invalidf("Subscribe: pull request is nil")
	}
	return c.subscribe(ctx, PullSubscription, opts, func(e *etree.Element) error {
		r := e.CreateElement("m:PullSubscriptionRequest")
		if err := req.SubscriptionScope.write(opSubscribe.name, r); err != nil {
			return err
		}
		if err := writeWatermark(opSubscribe.name, r, req.Watermark); err != nil {
			return err
		}
		minutes, err := wholeMinutes(opSubscribe.name, "Timeout", req.Timeout, MaxSubscriptionTimeout)
		if err != nil {
			return err
		}
		r.CreateElement("t:Timeout").SetText(minutes)
		return nil
	})
}

// SubscribePush runs EWS Subscribe for a push subscription: the server
// posts notifications to req.URL. Errors as for [Client.SubscribePull],
// plus ErrorInvalidPushSubscriptionUrl.
func (c *Client) SubscribePush(ctx context.Context, req *PushSubscriptionRequest, opts ...CallOption) (*Subscription, error) {
	if req == nil {
		return nil, invalidf("Subscribe: push request is nil")
	}
	if err := checkPushURL(req.URL); err != nil {
		return nil, err
	}
	return c.subscribe(ctx, PushSubscription, opts, func(e *etree.Element) error {
		r := e.CreateElement("m:PushSubscriptionRequest")
		if err := req.SubscriptionScope.write(opSubscribe.name, r); err != nil {
			return err
		}
		if err := writeWatermark(opSubscribe.name, r, req.Watermark); err != nil {
			return err
		}
		freq := req.StatusFrequency
		if freq == 0 {
			freq = DefaultStatusFrequency
		}
		minutes, err := wholeMinutes(opSubscribe.name, "StatusFrequency", freq, MaxSubscriptionTimeout)
		if err != nil {
			return err
		}
		r.CreateElement("t:StatusFrequency").SetText(minutes)
		r.CreateElement("t:URL").SetText(req.URL)
		if req.CallerData != "" {
			if err := checkText(opSubscribe.name, "CallerData", req.CallerData); err != nil {
				return err
			}
			r.CreateElement("t:CallerData").SetText(req.CallerData)
		}
		return nil
	})
}

// checkPushURL applies the rules behind ErrorInvalidPushSubscriptionUrl.
func checkPushURL(s string) error {
	if s == "" {
		return invalidf("Subscribe: push URL is empty")
	}
	if len(s) > 2082 {
		return invalidf("Subscribe: push URL is %d characters long, more than 2082", len(s))
	}
	if err := checkText("Subscribe", "push URL", s); err != nil {
		return err
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalidf("Subscribe: push URL %q is not an absolute http or https URL", clip(s))
	}
	if u.User != nil {
		return invalidf("Subscribe: push URL for host %s carries user information; put a token in the path instead", clip(u.Host))
	}
	return nil
}

// SubscribeStreaming runs EWS Subscribe for a streaming subscription:
// events arrive on a [Client.GetStreamingEvents] connection. Errors as for
// [Client.SubscribePull].
func (c *Client) SubscribeStreaming(ctx context.Context, req *StreamingSubscriptionRequest, opts ...CallOption) (*Subscription, error) {
	if req == nil {
		return nil, invalidf("Subscribe: streaming request is nil")
	}
	return c.subscribe(ctx, StreamingSubscription, opts, func(e *etree.Element) error {
		return req.SubscriptionScope.write(opSubscribe.name, e.CreateElement("m:StreamingSubscriptionRequest"))
	})
}

func (c *Client) subscribe(ctx context.Context, kind SubscriptionKind, opts []CallOption, body func(*etree.Element) error) (*Subscription, error) {
	op := opSubscribe
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		return body(b.CreateElement("m:Subscribe"))
	})
	if err != nil {
		return nil, err
	}
	return parseSubscribe(soap, kind)
}

func parseSubscribe(soap *soapResponse, kind SubscriptionKind) (*Subscription, error) {
	e, _, err := singleMessage(soap, opSubscribe)
	if err != nil {
		return nil, err
	}
	s := &Subscription{Kind: kind,
		ID:        childText(e, NamespaceMessages, "SubscriptionId"),
		Watermark: childText(e, NamespaceMessages, "Watermark")}
	if s.ID == "" {
		return nil, &HTTPError{Operation: opSubscribe.name, StatusCode: 200, Reason: "the response has no SubscriptionId"}
	}
	return s, nil
}

func writeSubscriptionID(op string, parent *etree.Element, tag, id string) error {
	if strings.TrimSpace(id) == "" {
		return invalidf("%s: subscription id is empty", op)
	}
	if err := checkText(op, "subscription id", id); err != nil {
		return err
	}
	parent.CreateElement(tag).SetText(id)
	return nil
}

// Unsubscribe ends a pull or streaming subscription (push subscriptions end
// when the [PushHandler] answers Unsubscribe). An unknown or expired id
// fails with ErrorSubscriptionNotFound, a push subscription's id with
// ErrorInvalidPullSubscriptionId.
func (c *Client) Unsubscribe(ctx context.Context, subscriptionID string, opts ...CallOption) error {
	op := opUnsubscribe
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		return writeSubscriptionID(op.name, b.CreateElement("m:Unsubscribe"), "m:SubscriptionId", subscriptionID)
	})
	if err != nil {
		return err
	}
	_, _, err = singleMessage(soap, op)
	return err
}

// GetEvents fetches the events of a pull subscription that queued after
// watermark (the subscription's, or the last one handled). The server
// returns at most 50 events per call; when MoreEvents is set, call again at
// once with the notification's LastWatermark (or use [Client.Events]). An
// empty queue gives one StatusEvent. Each call restarts the subscription's
// Timeout. Errors come back as a *ResponseError: ErrorSubscriptionNotFound
// or ErrorExpiredSubscription (subscribe again, then resync),
// ErrorInvalidWatermark, ErrorInvalidPullSubscriptionId (a push id).
func (c *Client) GetEvents(ctx context.Context, subscriptionID, watermark string, opts ...CallOption) (*Notification, error) {
	op := opGetEvents
	if watermark == "" {
		return nil, invalidf("GetEvents: watermark is empty; use the subscription's Watermark or the last notification's LastWatermark")
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:GetEvents")
		if err := writeSubscriptionID(op.name, e, "m:SubscriptionId", subscriptionID); err != nil {
			return err
		}
		if strings.TrimSpace(watermark) != watermark {
			return invalidf("GetEvents: watermark has leading or trailing white space; pass it back exactly as the server sent it")
		}
		if err := checkText(op.name, "watermark", watermark); err != nil {
			return err
		}
		e.CreateElement("m:Watermark").SetText(watermark)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parseGetEvents(soap)
}

func parseGetEvents(soap *soapResponse) (*Notification, error) {
	e, _, err := singleMessage(soap, opGetEvents)
	if err != nil {
		return nil, err
	}
	ne := childLocal(e, "Notification")
	if ne == nil {
		return nil, &HTTPError{Operation: opGetEvents.name, StatusCode: 200, Reason: "the response has no Notification"}
	}
	n, err := parseNotification(ne)
	if err != nil {
		return nil, &HTTPError{Operation: opGetEvents.name, StatusCode: 200, Reason: err.Error()}
	}
	return &n, nil
}

// Events fetches every queued event of a pull subscription: it calls
// GetEvents from watermark, and again with the last watermark while the
// server says MoreEvents, yielding each notification. Persist the
// notification's LastWatermark after handling it. An error ends the
// iteration.
func (c *Client) Events(ctx context.Context, subscriptionID, watermark string, opts ...CallOption) iter.Seq2[*Notification, error] {
	return func(yield func(*Notification, error) bool) {
		for {
			n, err := c.GetEvents(ctx, subscriptionID, watermark, opts...)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(n, nil) || !n.MoreEvents {
				return
			}
			next := n.LastWatermark()
			if next == watermark {
				yield(nil, &HTTPError{Operation: opGetEvents.name, StatusCode: 200,
					Reason: "the server says more events are waiting but the watermark did not move; stopping instead of asking again forever"})
				return
			}
			watermark = next
		}
	}
}
