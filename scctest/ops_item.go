package scctest

import (
	"slices"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// itemContext says where item properties are written: FindItem cannot
// return the body or recipient lists.
type itemContext int

const (
	inFindItem itemContext = iota
	inGetItem
)

// findItemForbidden are properties FindItem refuses with
// ErrorInvalidPropertyRequest.
func findItemForbidden(field string) bool {
	switch field {
	case "item:Body", "item:UniqueBody", "item:MimeContent", "item:Attachments",
		"message:ToRecipients", "message:CcRecipients", "message:BccRecipients", "message:ReplyTo":
		return true
	}
	return false
}

// writeMailbox writes a t:Mailbox (EmailAddressType) for an address; a
// directory mailbox gets its display name.
func (x *exchange) writeMailbox(parent *elem, a mbx.Address) {
	m := parent.CreateElement("t:Mailbox")
	name, kind := a.Name, "OneOff"
	if mb := x.s.dir.lookupAddr(a.Email); mb != nil {
		kind = "Mailbox"
		if name == "" {
			name = mb.info.DisplayName
		}
	}
	if name == "" {
		name = a.Email
	}
	m.CreateElement("t:Name").SetText(name)
	m.CreateElement("t:EmailAddress").SetText(a.Email)
	m.CreateElement("t:RoutingType").SetText("SMTP")
	m.CreateElement("t:MailboxType").SetText(kind)
}

// displayList is DisplayTo/DisplayCc: display names joined by "; ".
func (x *exchange) displayList(addrs []mbx.Address) string {
	names := make([]string, 0, len(addrs))
	for _, a := range addrs {
		switch mb := x.s.dir.lookupAddr(a.Email); {
		case a.Name != "":
			names = append(names, a.Name)
		case mb != nil:
			names = append(names, mb.info.DisplayName)
		default:
			names = append(names, a.Email)
		}
	}
	return strings.Join(names, "; ")
}

// parseSortOrder reads m:SortOrder into the model's sort keys.
func parseSortOrder(op *node) ([]mbx.SortKey, *soapFault) {
	so := op.child(nsMessages, "SortOrder")
	if so == nil {
		return nil, nil
	}
	var keys []mbx.SortKey
	for _, fo := range so.kids {
		order := fo.attrOr("Order", "Ascending")
		if order != "Ascending" && order != "Descending" {
			return nil, schemaFault(fo, "The 'Order' attribute is invalid - The value '"+order+"' is invalid according to its datatype 'SortDirectionType'.")
		}
		if len(fo.kids) != 1 {
			return nil, schemaFault(fo, "The element 'FieldOrder' must hold one property path.")
		}
		p, f := parsePath(fo.kids[0])
		if f != nil {
			return nil, f
		}
		keys = append(keys, mbx.SortKey{Path: p, Descending: order == "Descending"})
	}
	return keys, nil
}

// parsePath reads a t:FieldURI, t:IndexedFieldURI or t:ExtendedFieldURI.
func parsePath(n *node) (mbx.Path, *soapFault) {
	switch {
	case n.is(nsTypes, "FieldURI"):
		u, ok := n.attr("FieldURI")
		if !ok {
			return mbx.Path{}, schemaFault(n, "The required attribute 'FieldURI' is missing.")
		}
		return mbx.Field(u), nil
	case n.is(nsTypes, "IndexedFieldURI"):
		u, ok1 := n.attr("FieldURI")
		i, ok2 := n.attr("FieldIndex")
		if !ok1 || !ok2 {
			return mbx.Path{}, schemaFault(n, "The required attributes 'FieldURI' and 'FieldIndex' must be present.")
		}
		return mbx.Indexed(u, i), nil
	case n.is(nsTypes, "ExtendedFieldURI"):
		u, f := parseExtURI(n)
		if f != nil {
			return mbx.Path{}, f
		}
		return mbx.Extended(u), nil
	}
	return mbx.Path{}, schemaFault(n, "The element '"+n.name.Local+"' is not a property path.")
}

// parseExtURI reads the attributes of a t:ExtendedFieldURI; the model
// checks their combination.
func parseExtURI(n *node) (mbx.ExtendedFieldURI, *soapFault) {
	var u mbx.ExtendedFieldURI
	u.PropertyTag = n.attrOr("PropertyTag", "")
	u.DistinguishedPropertySetID = n.attrOr("DistinguishedPropertySetId", "")
	u.PropertySetID = n.attrOr("PropertySetId", "")
	u.PropertyName = n.attrOr("PropertyName", "")
	u.PropertyID = n.attrOr("PropertyId", "")
	t, ok := n.attr("PropertyType")
	if !ok {
		return u, schemaFault(n, "The required attribute 'PropertyType' is missing.")
	}
	u.Type = mbx.PropType(t)
	return u, nil
}

// findItem implements FindItem with indexed or fractional paging.
func (x *exchange) findItem() (*opResponse, *soapFault) {
	trav, sh, view, ids, f := x.parseFind("ItemQueryTraversalType", []string{"Shallow", "SoftDeleted", "Associated"}, "Item")
	if f != nil {
		return nil, f
	}
	sortKeys, f := parseSortOrder(x.body)
	if f != nil {
		return nil, f
	}
	restr, f := parseRestriction(x.body)
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	var unsupported string
	for _, name := range []string{"SeekToConditionPageItemView", "ContactsView", "GroupBy", "DistinguishedGroupBy", "QueryString"} {
		if x.body.child(nsMessages, name) != nil {
			unsupported = name
		}
	}
	bad := checkItemShape(sh, true)
	cv, f := parseCalendarView(x.body)
	if f != nil {
		return nil, f
	}
	if cv != nil && (restr != nil || sortKeys != nil) && bad == nil {
		bad = &responseMessage{code: ews.ErrorInvalidRequest, text: "scctest does not combine CalendarView with Restriction or SortOrder (exchangelib: EWS does not allow it); filter and sort the expanded entries in the client."}
	}
	for _, id := range ids {
		switch {
		case unsupported != "":
			resp.messages = append(resp.messages, responseMessage{code: ews.ErrorUnsupportedQueryFilter, text: "scctest does not evaluate " + unsupported + " in FindItem."})
			continue
		case bad != nil:
			resp.messages = append(resp.messages, *bad)
			continue
		}
		t, code, f := x.resolveFolder(id)
		if f != nil {
			return nil, f
		}
		if code != "" {
			resp.messages = append(resp.messages, failure(code))
			continue
		}
		if cv != nil {
			resp.messages = append(resp.messages, x.calendarView(t, cv, sh))
			continue
		}
		res, start, end, err := x.findPage(t, trav, mbx.Query{Restriction: restr, Sort: sortKeys}, view)
		if err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		var rm *responseMessage
		for _, it := range res.Items {
			if rm = cannotReturn(sh, it.Kind); rm != nil {
				break
			}
		}
		if rm != nil {
			resp.messages = append(resp.messages, *rm)
			continue
		}
		resp.messages = append(resp.messages, success(func(m *elem) {
			rf := m.CreateElement("m:RootFolder")
			view.pagingAttrs(rf, start, end, res.Total)
			is := rf.CreateElement("t:Items")
			for _, it := range res.Items {
				x.writeItem(is, t.mb, it, sh, inFindItem)
			}
		}))
	}
	return resp, nil
}

// calView is a parsed m:CalendarView.
type calView struct {
	start, end time.Time
	max        int
}

// parseCalendarView reads m:CalendarView (nil when absent).
func parseCalendarView(op *node) (*calView, *soapFault) {
	n := op.child(nsMessages, "CalendarView")
	if n == nil {
		return nil, nil
	}
	var cv calView
	for _, a := range []struct {
		name string
		t    *time.Time
	}{{"StartDate", &cv.start}, {"EndDate", &cv.end}} {
		v, ok := n.attr(a.name)
		if !ok {
			return nil, schemaFault(n, "The required attribute '"+a.name+"' is missing.")
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
		if err != nil {
			return nil, schemaFault(n, "The '"+a.name+"' attribute is invalid - The value '"+v+"' is invalid according to its datatype 'xs:dateTime'.")
		}
		*a.t = t
	}
	if me, ok := n.attr("MaxEntriesReturned"); ok {
		var bad bool
		if cv.max, bad = atoiNonNeg(me); bad || cv.max == 0 {
			return nil, schemaFault(n, "The 'MaxEntriesReturned' attribute is invalid - The value '"+me+"' is invalid.")
		}
	}
	return &cv, nil
}

// calendarView answers a CalendarView over one folder: singles,
// occurrences and exceptions overlapping the window, by start.
func (x *exchange) calendarView(t target, cv *calView, sh shape) responseMessage {
	max := maxFindCount
	if cv.max > 0 && cv.max < max {
		max = cv.max
	}
	occ, more, err := x.box(t).CalendarView(t.ref, cv.start, cv.end, max)
	if err != nil {
		return modelFailure(err)
	}
	return success(func(m *elem) {
		rf := m.CreateElement("m:RootFolder")
		rf.CreateAttr("TotalItemsInView", itoa(len(occ)))
		rf.CreateAttr("IncludesLastItemInRange", boolStr(!more))
		is := rf.CreateElement("t:Items")
		for _, o := range occ {
			it := o.Item
			it.ID = o.ID
			x.writeItemAs(is, t.mb, it, sh, inFindItem, o.Type)
		}
	})
}

// findPage runs q over the folder and returns the page the view asks for
// as [start, end) of all matches. Only a Shallow traversal has items: the
// associated items are user configurations, soft-deleted items are not
// kept in their folder.
func (x *exchange) findPage(t target, trav string, q mbx.Query, view pageView) (mbx.FindResult, int, int, error) {
	b := x.box(t)
	if trav != "Shallow" {
		if _, err := b.GetFolder(t.ref); err != nil {
			return mbx.FindResult{}, 0, 0, err
		}
		return mbx.FindResult{}, 0, 0, nil
	}
	if !view.fractional && !view.fromEnd {
		// The window is known without the total.
		q.Offset = view.offset
		q.Max = min(maxFindCount, max(view.max, 0))
		if q.Max == 0 {
			q.Max = maxFindCount
		}
		res, err := b.FindItems(t.ref, q)
		if err != nil {
			return res, 0, 0, err
		}
		start, end := view.window(res.Total)
		return res, start, end, nil
	}
	q.Max = 1
	res, err := b.FindItems(t.ref, q)
	if err != nil {
		return res, 0, 0, err
	}
	start, end := view.window(res.Total)
	if start == end {
		res.Items = nil
		return res, start, end, nil
	}
	q.Offset, q.Max = start, end-start
	res, err = b.FindItems(t.ref, q)
	return res, start, end, err
}

// resolveItem resolves a t:ItemId to the mailbox of an item the caller
// may access and the item's id; whether it exists is the model's answer.
func (x *exchange) resolveItem(n *node) (*mailbox, string, ews.ResponseCode, *soapFault) {
	if !n.is(nsTypes, "ItemId") {
		if n.name.Space == nsTypes && (n.name.Local == "OccurrenceItemId" || n.name.Local == "RecurringMasterItemId" || n.name.Local == "RootItemId") {
			return nil, "", ews.ErrorItemNotFound, nil
		}
		return nil, "", "", schemaFault(n, "The element '"+n.name.Local+"' is not an item id.")
	}
	id, ok := n.attr("Id")
	if !ok {
		return nil, "", "", schemaFault(n, "The required attribute 'Id' is missing.")
	}
	if strings.TrimSpace(id) == "" {
		return nil, "", ews.ErrorInvalidIdEmpty, nil
	}
	info, err := mbx.DecodeID(id)
	if err != nil {
		return nil, "", ews.ErrorInvalidIdMalformed, nil
	}
	switch info.Kind {
	case mbx.KindFolderID:
		return nil, "", ews.ErrorCannotUseFolderIdForItemId, nil
	case mbx.KindItemID:
	default:
		return nil, "", ews.ErrorInvalidIdMalformed, nil
	}
	mb, code := x.idMailbox(id)
	if code != "" {
		return nil, "", code, nil
	}
	return mb, id, "", nil
}

// getItem implements GetItem.
func (x *exchange) getItem() (*opResponse, *soapFault) {
	sh, f := parseShape(x.body, "ItemShape")
	if f != nil {
		return nil, f
	}
	ids, f := x.folderList(x.body, "ItemIds")
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	bad := checkItemShape(sh, false)
	for _, id := range ids {
		ref, code, f := x.resolveItemRef(id)
		if f != nil {
			return nil, f
		}
		switch {
		case code != "":
			resp.messages = append(resp.messages, failure(code))
			continue
		case bad != nil:
			resp.messages = append(resp.messages, *bad)
			continue
		case ref.occ:
			resp.messages = append(resp.messages, x.getOccurrence(ref, sh))
			continue
		}
		mb, iid := ref.mb, ref.id
		it, err := x.s.box(mb).GetItem(iid)
		if err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		if rm := cannotReturn(sh, it.Kind); rm != nil {
			resp.messages = append(resp.messages, *rm)
			continue
		}
		resp.messages = append(resp.messages, success(func(m *elem) {
			x.writeItem(m.CreateElement("m:Items"), mb, it, sh, inGetItem)
		}))
	}
	return resp, nil
}

// getOccurrence answers GetItem for an occurrence or exception: the
// master's properties with the instance's Start, End, Subject, Location
// and CalendarItemType, without the master's recurrence.
func (x *exchange) getOccurrence(ref itemRef, sh shape) responseMessage {
	o, err := x.s.box(ref.mb).GetOccurrence(ref.id)
	if err != nil {
		return modelFailure(err)
	}
	it := o.Item
	it.ID = o.ID
	return success(func(m *elem) {
		x.writeItemAs(m.CreateElement("m:Items"), ref.mb, it, sh, inGetItem, o.Type)
	})
}

// recipients reads t:Mailbox children.
func recipients(n *node) []mbx.Address {
	var out []mbx.Address
	if n == nil {
		return nil
	}
	for _, m := range n.kids {
		if a := m.child(nsTypes, "EmailAddress").trimmed(); a != "" {
			out = append(out, mbx.Address{Name: m.child(nsTypes, "Name").trimmed(), Email: a})
		}
	}
	return out
}

// createItem implements CreateItem: t:Message with SaveOnly, SendOnly and
// SendAndSaveCopy; t:CalendarItem, t:Contact and t:Task saved (in
// SavedItemFolderId or the kind's default folder). Every property the
// client sets is stored: the ones the model understands in its fields,
// extended properties, and any other schema element verbatim.
func (x *exchange) createItem() (*opResponse, *soapFault) {
	items, f := x.folderList(x.body, "Items")
	if f != nil {
		return nil, f
	}
	disp, hasDisp := x.body.attr("MessageDisposition")
	switch disp {
	case "", "SaveOnly", "SendOnly", "SendAndSaveCopy":
	default:
		return nil, schemaFault(x.body, "The 'MessageDisposition' attribute is invalid - The value '"+disp+"' is invalid according to its datatype 'MessageDispositionType'.")
	}
	resp := &opResponse{op: x.op}
	// Where a saved item goes: SavedItemFolderId, else the default.
	var saveTo target
	var saveCode ews.ResponseCode
	explicit := false
	if sf := x.body.child(nsMessages, "SavedItemFolderId"); sf != nil && len(sf.kids) == 1 {
		var f *soapFault
		saveTo, saveCode, f = x.resolveFolder(sf.kids[0])
		if f != nil {
			return nil, f
		}
		explicit = true
	} else if x.acting == nil {
		saveCode = ews.ErrorMissingEmailAddress
	}
	for _, in := range items {
		m, rm, f := parseItem(in)
		if f != nil {
			return nil, f
		}
		if rm != nil {
			resp.messages = append(resp.messages, *rm)
			continue
		}
		isMsg := m.Kind == mbx.Message
		if isMsg && !hasDisp {
			resp.messages = append(resp.messages, failure(ews.ErrorMessageDispositionRequired))
			continue
		}
		if saveCode != "" && !(isMsg && disp == "SendOnly") {
			resp.messages = append(resp.messages, failure(saveCode))
			continue
		}
		to := saveTo
		if !explicit {
			to = target{x.acting, map[mbx.ItemKind]string{mbx.Message: "drafts", mbx.CalendarItem: "calendar", mbx.Contact: "contacts", mbx.Task: "tasks"}[m.Kind]}
			if isMsg && disp == "SendAndSaveCopy" {
				to.ref = "sentitems"
			}
		}
		if x.acting != nil {
			switch {
			case isMsg && m.From == nil:
				m.From = &mbx.Address{Email: x.acting.info.PrimarySMTP}
			case m.Kind == mbx.CalendarItem:
				m.Calendar.Organizer = &mbx.Address{Email: x.acting.info.PrimarySMTP}
			}
		}
		if isMsg {
			if in.child(nsTypes, "IsRead") == nil {
				m.IsRead = true
			}
			if len(m.MIME) == 0 {
				m.InternetMessageID = x.s.newMessageID()
			}
		}
		if !isMsg || disp == "SaveOnly" {
			m.IsDraft = isMsg
			it, err := x.box(to).CreateItem(to.ref, m)
			if err != nil {
				resp.messages = append(resp.messages, modelFailure(err))
				continue
			}
			mb := to.mb
			resp.messages = append(resp.messages, success(func(e *elem) {
				x.writeItem(e.CreateElement("m:Items"), mb, it, shape{base: "IdOnly"}, inGetItem)
			}))
			continue
		}
		if x.acting == nil {
			resp.messages = append(resp.messages, failure(ews.ErrorMissingEmailAddress))
			continue
		}
		if len(m.To)+len(m.Cc)+len(m.Bcc) == 0 {
			resp.messages = append(resp.messages, responseMessage{code: ews.ErrorInvalidRecipients, text: "At least one recipient is required."})
			continue
		}
		if disp == "SendAndSaveCopy" {
			if _, err := x.box(to).CreateItem(to.ref, m); err != nil {
				resp.messages = append(resp.messages, modelFailure(err))
				continue
			}
		}
		x.deliver(m)
		resp.messages = append(resp.messages, success(func(e *elem) { e.CreateElement("m:Items") }))
	}
	return resp, nil
}

// deliver puts a sent message into the inbox of every local recipient.
// Bcc recipients get it without the Bcc list.
func (x *exchange) deliver(m mbx.Item) {
	seen := map[*mailbox]bool{}
	for _, a := range slices.Concat(m.To, m.Cc, m.Bcc) {
		mb := x.s.dir.lookupAddr(a.Email)
		if mb == nil || seen[mb] {
			continue
		}
		seen[mb] = true
		c := m
		c.IsRead, c.Bcc = false, nil
		c.Received, c.Sent = time.Time{}, time.Time{}
		// A failed delivery (quota) is not the sender's error; Exchange
		// sends an NDR, which the fake does not model.
		_, _ = x.s.box(mb).Deliver("inbox", c)
	}
}

// deleteItem implements DeleteItem.
func (x *exchange) deleteItem() (*opResponse, *soapFault) {
	how, f := x.deleteType()
	if f != nil {
		return nil, f
	}
	ids, f := x.folderList(x.body, "ItemIds")
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	for _, id := range ids {
		ref, code, f := x.resolveItemRef(id)
		if f != nil {
			return nil, f
		}
		if code != "" {
			resp.messages = append(resp.messages, failure(code))
			continue
		}
		if ref.occ {
			if err := x.s.box(ref.mb).DeleteOccurrence(ref.id); err != nil {
				resp.messages = append(resp.messages, modelFailure(err))
			} else {
				resp.messages = append(resp.messages, success(nil))
			}
			continue
		}
		mb, iid := ref.mb, ref.id
		if _, err := x.s.box(mb).DeleteItem(iid, how); err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		resp.messages = append(resp.messages, success(nil))
	}
	return resp, nil
}
