package ews

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// EventType is a kind of mailbox event (t:EventType in a subscription, the
// element name of an event in a notification).
type EventType string

// The event types. All but EventStatus can be subscribed to.
const (
	EventCopied          EventType = "CopiedEvent"
	EventCreated         EventType = "CreatedEvent"
	EventDeleted         EventType = "DeletedEvent"
	EventModified        EventType = "ModifiedEvent"
	EventMoved           EventType = "MovedEvent"
	EventNewMail         EventType = "NewMailEvent"
	EventFreeBusyChanged EventType = "FreeBusyChangedEvent"
	// EventStatus is the keep-alive the server sends when no other event
	// happened; it carries only a watermark and is never subscribed to.
	EventStatus EventType = "StatusEvent"
)

// AllEventTypes returns every event type a subscription can ask for.
func AllEventTypes() []EventType {
	return []EventType{EventCopied, EventCreated, EventDeleted, EventModified, EventMoved, EventNewMail, EventFreeBusyChanged}
}

func (t EventType) subscribable() bool {
	switch t {
	case EventCopied, EventCreated, EventDeleted, EventModified, EventMoved, EventNewMail, EventFreeBusyChanged:
		return true
	}
	return false
}

// Event is one mailbox event of a notification. An event is about an item
// (ItemID set) or a folder (FolderID set); ParentFolderID is the folder
// that holds it. Notifications carry ids only: to learn what changed, run
// SyncFolderItems (or SyncFolderHierarchy) for the folders the events name.
type Event struct {
	// Type is the element name, e.g. EventCreated or EventStatus.
	Type EventType
	// Watermark is the bookmark after this event; GetEvents and a new
	// Subscribe continue from it.
	Watermark string
	// TimeStamp is when the event happened (zero for a StatusEvent).
	TimeStamp      time.Time
	ItemID         ItemID
	FolderID       FolderID
	ParentFolderID FolderID
	// OldItemID, OldFolderID and OldParentFolderID are where the object
	// was before a MovedEvent or CopiedEvent (a moved item gets a new id).
	OldItemID         ItemID
	OldFolderID       FolderID
	OldParentFolderID FolderID
	// UnreadCount is the folder's unread count in a ModifiedEvent, when
	// the server sent one.
	UnreadCount *int
}

// IsFolder reports whether the event is about a folder, not an item.
func (e *Event) IsFolder() bool { return e.FolderID.ID != "" }

// Notification is a batch of events of one subscription (t:Notification).
type Notification struct {
	SubscriptionID string
	// PreviousWatermark is the watermark before the first event.
	PreviousWatermark string
	// MoreEvents is true when the server holds more events: call GetEvents
	// again at once.
	MoreEvents bool
	// Events are the events in order; a StatusEvent alone means nothing
	// happened.
	Events []Event
}

// LastWatermark returns the watermark to continue from after handling n:
// that of the last event that has one, else PreviousWatermark.
func (n *Notification) LastWatermark() string {
	for i := len(n.Events) - 1; i >= 0; i-- {
		if n.Events[i].Watermark != "" {
			return n.Events[i].Watermark
		}
	}
	return n.PreviousWatermark
}

// parseNotification reads a t:Notification (or m:Notification: real
// servers use both; children are matched by local name in the types
// namespace).
func parseNotification(e *etree.Element) (Notification, error) {
	var n Notification
	for _, c := range e.ChildElements() {
		if c.NamespaceURI() != NamespaceTypes {
			continue
		}
		switch c.Tag {
		case "SubscriptionId":
			n.SubscriptionID = strings.TrimSpace(c.Text())
		case "PreviousWatermark":
			n.PreviousWatermark = strings.TrimSpace(c.Text())
		case "MoreEvents":
			n.MoreEvents = parseBool(c.Text())
		default:
			ev, ok, err := parseEvent(c)
			if err != nil {
				return n, err
			}
			if ok {
				n.Events = append(n.Events, ev)
			}
		}
	}
	if n.SubscriptionID == "" {
		return n, errors.New("a notification has no SubscriptionId")
	}
	return n, nil
}

// parseEvent reads one event element; ok is false for elements that are
// not events (newer servers may add some).
func parseEvent(e *etree.Element) (ev Event, ok bool, err error) {
	ev.Type = EventType(e.Tag)
	if !ev.Type.subscribable() && ev.Type != EventStatus {
		return ev, false, nil
	}
	for _, c := range e.ChildElements() {
		if c.NamespaceURI() != NamespaceTypes {
			continue
		}
		switch c.Tag {
		case "Watermark":
			ev.Watermark = strings.TrimSpace(c.Text())
		case "TimeStamp":
			ev.TimeStamp = parseTime(c.Text())
		case "ItemId":
			ev.ItemID = parseItemID(c)
		case "FolderId":
			ev.FolderID = parseFolderID(c)
		case "ParentFolderId":
			ev.ParentFolderID = parseFolderID(c)
		case "OldItemId":
			ev.OldItemID = parseItemID(c)
		case "OldFolderId":
			ev.OldFolderID = parseFolderID(c)
		case "OldParentFolderId":
			ev.OldParentFolderID = parseFolderID(c)
		case "UnreadCount":
			n := parseInt(c.Text())
			ev.UnreadCount = &n
		}
	}
	if ev.Type != EventStatus && ev.ItemID.ID == "" && ev.FolderID.ID == "" {
		return ev, false, fmt.Errorf("a %s names neither an item nor a folder", ev.Type)
	}
	return ev, true, nil
}

// SubscriptionError is an error the server reported for some subscriptions
// of a GetStreamingEvents connection (ErrorSubscriptionNotFound,
// ErrorMissedNotificationEvents, ErrorInvalidWatermark,
// ErrorExpiredSubscription, ...), naming the subscriptions it is about.
// It wraps the *ResponseError, so errors.Is(err, ews.ErrorSubscriptionNotFound)
// and errors.As(err, &responseError) both work.
type SubscriptionError struct {
	// SubscriptionIDs are the subscriptions the error is about
	// (m:ErrorSubscriptionIds); empty when the server named none, which
	// means all of the connection's.
	SubscriptionIDs []string
	// Err is the server's error.
	Err *ResponseError
}

// Error names the code, the server's message and the subscriptions.
func (e *SubscriptionError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if len(e.SubscriptionIDs) > 0 {
		b.WriteString(" (subscriptions ")
		for i, id := range e.SubscriptionIDs {
			if i > 0 {
				b.WriteString(", ")
			}
			if i == 5 {
				fmt.Fprintf(&b, "and %d more", len(e.SubscriptionIDs)-5)
				break
			}
			b.WriteString(clip(id))
		}
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the *ResponseError.
func (e *SubscriptionError) Unwrap() error { return e.Err }

// KeepsSubscription reports whether the subscriptions survive the error,
// so that subscribing again would be wrong: for
// ErrorMissedNotificationEvents (events were lost, the subscription keeps
// working; resync the folders), ErrorNewEventStreamConnectionOpened (the
// subscription moved to a newer connection, which serves it now) and
// ErrorExceededConnectionCount (the connection was refused, the
// subscriptions are untouched; open fewer connections or impersonate
// another mailbox for this one). For every other code, subscribe again and
// resync.
func (e *SubscriptionError) KeepsSubscription() bool {
	switch e.Err.Code {
	case ErrorMissedNotificationEvents, ErrorNewEventStreamConnectionOpened, ErrorExceededConnectionCount:
		return true
	}
	return false
}
