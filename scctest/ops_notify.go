package scctest

import (
	"strconv"
	"time"

	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// notifyOperations returns the notification operations.
func notifyOperations(name string) (opSpec, bool) {
	switch name {
	case "Subscribe":
		return opSpec{write: true, run: (*exchange).subscribe}, true
	case "GetEvents":
		return opSpec{write: true, run: (*exchange).getEvents}, true
	case "Unsubscribe":
		return opSpec{write: true, run: (*exchange).unsubscribe}, true
	case "GetStreamingEvents":
		// Served by streamEvents outside the operation lock (dispatch).
		return opSpec{}, true
	}
	return opSpec{}, false
}

// subscribableEvents are the t:EventType values.
var subscribableEvents = []string{"CopiedEvent", "CreatedEvent", "DeletedEvent", "ModifiedEvent", "MovedEvent", "NewMailEvent", "FreeBusyChangedEvent"}

func isSubscribable(s string) bool {
	for _, e := range subscribableEvents {
		if e == s {
			return true
		}
	}
	return false
}

// one is a single-message response.
func (x *exchange) one(m responseMessage) (*opResponse, *soapFault) {
	return &opResponse{op: x.op, messages: []responseMessage{m}}, nil
}

// subscribe implements Subscribe for pull and streaming subscriptions.
func (x *exchange) subscribe() (*opResponse, *soapFault) {
	req := x.body.child(nsMessages, "PullSubscriptionRequest")
	kind := subPull
	if req == nil {
		if req = x.body.child(nsMessages, "StreamingSubscriptionRequest"); req != nil {
			kind = subStreaming
		}
	}
	if req == nil {
		if req = x.body.child(nsMessages, "PushSubscriptionRequest"); req != nil {
			kind = subPush
		}
	}
	if req == nil {
		return nil, schemaFault(x.body, "The element 'Subscribe' has incomplete content. List of possible elements expected: 'PullSubscriptionRequest, PushSubscriptionRequest, StreamingSubscriptionRequest'.")
	}
	all := false
	if v, ok := req.attr("SubscribeToAllFolders"); ok {
		switch v {
		case "true", "1":
			all = true
		case "false", "0":
		default:
			return nil, schemaFault(req, "The 'SubscribeToAllFolders' attribute is invalid - The value '"+v+"' is invalid according to its datatype 'http://www.w3.org/2001/XMLSchema:boolean'.")
		}
	}
	sub := &subscription{kind: kind, all: all, owner: x.p.key(), types: map[string]bool{}, lastCall: x.s.now()}
	et := req.child(nsTypes, "EventTypes")
	if et == nil || len(et.kids) == 0 {
		return nil, schemaFault(req, "The element '"+req.name.Local+"' has incomplete content. List of possible elements expected: 'EventTypes'.")
	}
	for _, e := range et.kids {
		v := e.trimmed()
		if !e.is(nsTypes, "EventType") || !isSubscribable(v) {
			return nil, schemaFault(e, "The value '"+v+"' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:NotificationEventTypeType' - The Enumeration constraint failed.")
		}
		sub.types[v] = true
	}
	if kind == subPull {
		to := req.child(nsTypes, "Timeout")
		if to == nil {
			return nil, schemaFault(req, "The element 'PullSubscriptionRequest' has incomplete content. List of possible elements expected: 'Timeout'.")
		}
		n, err := strconv.Atoi(to.trimmed())
		if err != nil || n < 1 || n > 1440 {
			return nil, schemaFault(to, "The 'Timeout' element is invalid - The value '"+to.trimmed()+"' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:SubscriptionTimeoutType' - The MaxInclusive or MinInclusive constraint failed.")
		}
		sub.timeout = time.Duration(n) * time.Minute
	}
	if kind == subPush {
		if resp, f := x.pushRequest(req, sub); resp != nil || f != nil {
			return resp, f
		}
	}
	fids := req.child(nsTypes, "FolderIds")
	switch {
	case all && fids != nil:
		return x.one(responseMessage{code: ews.ErrorInvalidSubscriptionRequest, text: "SubscribeToAllFolders cannot be combined with FolderIds."})
	case !all && (fids == nil || len(fids.kids) == 0):
		return x.one(responseMessage{code: ews.ErrorInvalidSubscriptionRequest, text: "A subscription needs FolderIds or SubscribeToAllFolders."})
	}
	if all {
		if x.acting == nil {
			return x.one(failure(ews.ErrorMissingEmailAddress))
		}
		sub.mb = x.acting
	} else {
		sub.folders = map[string]bool{}
		for _, fn := range fids.kids {
			if fn.is(nsTypes, "DistinguishedFolderId") && fn.child(nsTypes, "Mailbox") != nil {
				if m := x.s.dir.lookupAddr(fn.child(nsTypes, "Mailbox").child(nsTypes, "EmailAddress").trimmed()); m != nil && m != x.acting {
					return x.one(failure(ews.ErrorSubscriptionDelegateAccessNotSupported))
				}
			}
			t, code, f := x.resolveFolder(fn)
			if f != nil {
				return nil, f
			}
			if code != "" {
				return x.one(failure(code))
			}
			if sub.mb != nil && sub.mb != t.mb {
				return x.one(responseMessage{code: ews.ErrorInvalidSubscriptionRequest, text: "All folders of a subscription must be in one mailbox."})
			}
			sub.mb = t.mb
			fo, err := x.box(t).GetFolder(t.ref)
			if err != nil {
				return x.one(modelFailure(err))
			}
			sub.folders[fo.ID] = true
		}
	}
	sub.box = x.s.box(sub.mb)
	sub.seq = sub.box.Seq()
	if wn := req.child(nsTypes, "Watermark"); wn != nil && kind != subStreaming {
		idx, seq, ok := parseToken(tagWatermark, wn.trimmed())
		if !ok || idx != sub.mb.idx || seq > sub.seq {
			return x.one(failure(ews.ErrorInvalidWatermark))
		}
		sub.seq = seq
	}
	t := &x.s.subs
	t.init()
	x.s.sweepIdle(sub.mb)
	if t.count[sub.mb] >= x.s.cfg.maxSubs {
		return x.one(responseMessage{code: ews.ErrorExceededSubscriptionCount, text: "The mailbox " + sub.mb.info.PrimarySMTP + " already has " + itoa(t.count[sub.mb]) + " subscriptions, the limit."})
	}
	t.next++
	sub.id = opaqueToken(tagSubscription, sub.mb.idx, t.next)
	sub.backend = x.aff.backend
	t.add(sub)
	if kind == subPush {
		x.s.startPush(sub)
	}
	return x.one(success(func(m *elem) {
		m.CreateElement("m:SubscriptionId").SetText(sub.id)
		if kind != subStreaming {
			m.CreateElement("m:Watermark").SetText(watermark(sub.mb, sub.seq))
		}
	}))
}

// lookupSub finds a subscription the caller owns on the backend the
// request was routed to (affinity.go); an expired one (idle past its
// lifetime) is removed and reported as ErrorSubscriptionNotFound.
func (x *exchange) lookupSub(id string) (*subscription, ews.ResponseCode) {
	t := &x.s.subs
	t.init()
	sub := t.byID[id]
	if sub == nil || !x.onBackend(sub) {
		return nil, ews.ErrorSubscriptionNotFound
	}
	if sub.owner != x.p.key() {
		return nil, ews.ErrorSubscriptionAccessDenied
	}
	if x.s.idleExpired(sub) {
		t.removeAs(sub, ews.ErrorSubscriptionNotFound)
		return nil, ews.ErrorSubscriptionNotFound
	}
	return sub, ""
}

// getEvents implements GetEvents.
func (x *exchange) getEvents() (*opResponse, *soapFault) {
	idn := x.body.child(nsMessages, "SubscriptionId")
	wmn := x.body.child(nsMessages, "Watermark")
	if idn == nil || wmn == nil {
		return nil, schemaFault(x.body, "The element 'GetEvents' has incomplete content. List of possible elements expected: 'SubscriptionId, Watermark'.")
	}
	sub, code := x.lookupSub(idn.trimmed())
	if code != "" {
		return x.one(failure(code))
	}
	if sub.kind == subPush {
		return x.one(failure(ews.ErrorInvalidPullSubscriptionId))
	}
	if sub.kind != subPull {
		return x.one(responseMessage{code: ews.ErrorInvalidSubscription, text: "GetEvents needs a pull subscription; use GetStreamingEvents for a streaming one."})
	}
	idx, seq, ok := parseToken(tagWatermark, wmn.trimmed())
	if !ok || idx != sub.mb.idx || seq > sub.box.Seq() {
		return x.one(failure(ews.ErrorInvalidWatermark))
	}
	sub.lastCall = x.s.now()
	if sub.missed {
		sub.missed = false
		return x.one(responseMessage{code: ews.ErrorMissedNotificationEvents, text: "Events for the subscription were lost; the subscription remains."})
	}
	seq = max(seq, sub.lostTo)
	events, end, more := sub.pending(seq, maxEventsPerNotification)
	sub.seq = end
	prev := watermark(sub.mb, seq)
	return x.one(success(func(m *elem) {
		n := m.CreateElement("m:Notification")
		writeNotification(n, sub, prev, more, events, end)
	}))
}

// writeNotification writes the children of a NotificationType: the
// events, or a StatusEvent at end when there are none.
func writeNotification(n *elem, sub *subscription, prev string, more bool, events []mbx.Change, end uint64) {
	n.CreateElement("t:SubscriptionId").SetText(sub.id)
	if prev != "" {
		n.CreateElement("t:PreviousWatermark").SetText(prev)
		n.CreateElement("t:MoreEvents").SetText(boolStr(more))
	}
	if len(events) == 0 {
		st := n.CreateElement("t:StatusEvent")
		if sub.kind != subStreaming {
			st.CreateElement("t:Watermark").SetText(watermark(sub.mb, end))
		}
		return
	}
	for _, c := range events {
		e := n.CreateElement("t:" + eventName(c.Type))
		if sub.kind != subStreaming {
			e.CreateElement("t:Watermark").SetText(watermark(sub.mb, c.Seq))
		}
		e.CreateElement("t:TimeStamp").SetText(ewsTime(c.Time))
		tag := "t:ItemId"
		if c.Folder {
			tag = "t:FolderId"
		}
		e.CreateElement(tag).CreateAttr("Id", c.ID)
		if c.ParentID != "" {
			e.CreateElement("t:ParentFolderId").CreateAttr("Id", c.ParentID)
		}
		if c.Type == mbx.ChangeMoved || c.Type == mbx.ChangeCopied {
			e.CreateElement("t:Old"+tag[2:]).CreateAttr("Id", c.OldID)
			if c.OldParentID != "" {
				e.CreateElement("t:OldParentFolderId").CreateAttr("Id", c.OldParentID)
			}
		}
	}
}

// unsubscribe implements Unsubscribe.
func (x *exchange) unsubscribe() (*opResponse, *soapFault) {
	idn := x.body.child(nsMessages, "SubscriptionId")
	if idn == nil {
		return nil, schemaFault(x.body, "The element 'Unsubscribe' has incomplete content. List of possible elements expected: 'SubscriptionId'.")
	}
	sub, code := x.lookupSub(idn.trimmed())
	if code != "" {
		return x.one(failure(code))
	}
	if sub.kind == subPush {
		// A push subscription ends when its callback answers Unsubscribe.
		return x.one(failure(ews.ErrorInvalidPullSubscriptionId))
	}
	x.s.subs.removeAs(sub, ews.ErrorSubscriptionUnsubscribed)
	return x.one(success(nil))
}
