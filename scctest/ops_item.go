package scctest

import (
	"sort"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
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

// writeItem appends a t:Message with the properties of the shape, in schema
// order.
func (x *exchange) writeItem(parent *elem, mb *mailbox, it *item, sh shape, ctx itemContext) {
	get := ctx == inGetItem
	msg := &it.msg
	e := parent.CreateElement("t:Message")
	id := mb.itemID(it)
	ie := e.CreateElement("t:ItemId")
	ie.CreateAttr("Id", id.ID)
	ie.CreateAttr("ChangeKey", id.ChangeKey)
	if sh.want("item:ParentFolderId", true, true) {
		p := e.CreateElement("t:ParentFolderId")
		p.CreateAttr("Id", mb.folderID(it.folder))
		p.CreateAttr("ChangeKey", changeKey(idFolder, 1))
	}
	if sh.want("item:ItemClass", true, true) {
		e.CreateElement("t:ItemClass").SetText("IPM.Note")
	}
	if sh.want("item:Subject", true, true) {
		e.CreateElement("t:Subject").SetText(msg.Subject)
	}
	if sh.want("item:Sensitivity", true, true) {
		e.CreateElement("t:Sensitivity").SetText("Normal")
	}
	if get && sh.want("item:Body", true, true) {
		b := e.CreateElement("t:Body")
		b.CreateAttr("BodyType", string(msg.BodyType))
		b.SetText(msg.Body)
	}
	if sh.want("item:DateTimeReceived", true, true) {
		e.CreateElement("t:DateTimeReceived").SetText(ewsTime(msg.Received))
	}
	if sh.want("item:Size", true, true) {
		e.CreateElement("t:Size").SetText(itoa(it.size))
	}
	if sh.want("item:Importance", true, true) {
		e.CreateElement("t:Importance").SetText("Normal")
	}
	if sh.want("item:IsSubmitted", true, true) {
		e.CreateElement("t:IsSubmitted").SetText("false")
	}
	if sh.want("item:IsDraft", true, true) {
		e.CreateElement("t:IsDraft").SetText(boolStr(it.draft))
	}
	fromMe := strings.EqualFold(msg.From, mb.info.PrimarySMTP)
	if sh.want("item:IsFromMe", true, true) {
		e.CreateElement("t:IsFromMe").SetText(boolStr(fromMe))
	}
	if sh.want("item:IsResend", true, true) {
		e.CreateElement("t:IsResend").SetText("false")
	}
	if sh.want("item:IsUnmodified", true, true) {
		e.CreateElement("t:IsUnmodified").SetText(boolStr(!it.draft))
	}
	if sh.want("item:DateTimeSent", true, true) && !it.draft {
		e.CreateElement("t:DateTimeSent").SetText(ewsTime(msg.Sent))
	}
	if sh.want("item:DateTimeCreated", true, true) {
		e.CreateElement("t:DateTimeCreated").SetText(ewsTime(msg.Created))
	}
	if sh.want("item:ReminderIsSet", true, true) {
		e.CreateElement("t:ReminderIsSet").SetText("false")
	}
	if sh.want("item:DisplayCc", true, true) {
		e.CreateElement("t:DisplayCc").SetText(x.displayList(msg.Cc))
	}
	if sh.want("item:DisplayTo", true, true) {
		e.CreateElement("t:DisplayTo").SetText(x.displayList(msg.To))
	}
	if sh.want("item:HasAttachments", true, true) {
		e.CreateElement("t:HasAttachments").SetText("false")
	}
	if sh.want("item:Culture", false, true) {
		e.CreateElement("t:Culture").SetText("en-US")
	}
	if sh.want("item:LastModifiedTime", false, true) {
		e.CreateElement("t:LastModifiedTime").SetText(ewsTime(msg.Created))
	}
	if sh.want("item:IsAssociated", false, true) {
		e.CreateElement("t:IsAssociated").SetText("false")
	}
	if msg.From != "" && sh.want("message:Sender", true, true) {
		x.writeMailbox(e.CreateElement("t:Sender"), msg.From)
	}
	if get && len(msg.To) > 0 && sh.want("message:ToRecipients", true, true) {
		tr := e.CreateElement("t:ToRecipients")
		for _, a := range msg.To {
			x.writeMailbox(tr, a)
		}
	}
	if get && len(msg.Cc) > 0 && sh.want("message:CcRecipients", true, true) {
		cr := e.CreateElement("t:CcRecipients")
		for _, a := range msg.Cc {
			x.writeMailbox(cr, a)
		}
	}
	if sh.want("message:IsReadReceiptRequested", true, true) {
		e.CreateElement("t:IsReadReceiptRequested").SetText("false")
	}
	if sh.want("message:IsDeliveryReceiptRequested", true, true) {
		e.CreateElement("t:IsDeliveryReceiptRequested").SetText("false")
	}
	if sh.want("message:ConversationTopic", false, true) {
		e.CreateElement("t:ConversationTopic").SetText(msg.Subject)
	}
	if msg.From != "" && sh.want("message:From", true, true) {
		x.writeMailbox(e.CreateElement("t:From"), msg.From)
	}
	if sh.want("message:InternetMessageId", false, true) {
		e.CreateElement("t:InternetMessageId").SetText("<" + itoa(int(it.num)) + "." + itoa(int(mb.idx)) + "@scctest.invalid>")
	}
	if sh.want("message:IsRead", true, true) {
		e.CreateElement("t:IsRead").SetText(boolStr(msg.IsRead))
	}
}

// writeMailbox writes a t:Mailbox (EmailAddressType) for an address.
func (x *exchange) writeMailbox(parent *elem, addr string) {
	m := parent.CreateElement("t:Mailbox")
	name, kind := addr, "OneOff"
	if mb := x.s.dir.lookupAddr(addr); mb != nil {
		name, kind = mb.info.DisplayName, "Mailbox"
	}
	m.CreateElement("t:Name").SetText(name)
	m.CreateElement("t:EmailAddress").SetText(addr)
	m.CreateElement("t:RoutingType").SetText("SMTP")
	m.CreateElement("t:MailboxType").SetText(kind)
}

// displayList is DisplayTo/DisplayCc: display names joined by "; ".
func (x *exchange) displayList(addrs []string) string {
	names := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if mb := x.s.dir.lookupAddr(a); mb != nil {
			names = append(names, mb.info.DisplayName)
		} else {
			names = append(names, a)
		}
	}
	return strings.Join(names, "; ")
}

// sortItems orders items as SortOrder asks; default newest received first.
func sortItems(items []*item, op *node) {
	field, asc := "item:DateTimeReceived", false
	if so := op.child(nsMessages, "SortOrder"); so != nil && len(so.kids) > 0 {
		fo := so.kids[0]
		asc = fo.attrOr("Order", "Ascending") == "Ascending"
		if fu := fo.child(nsTypes, "FieldURI"); fu != nil {
			field = fu.attrOr("FieldURI", field)
		}
	}
	key := func(it *item) (time.Time, string) {
		switch field {
		case "item:Subject":
			return time.Time{}, it.msg.Subject
		case "item:DateTimeCreated":
			return it.msg.Created, ""
		case "item:DateTimeSent":
			return it.msg.Sent, ""
		}
		return it.msg.Received, ""
	}
	sort.SliceStable(items, func(i, j int) bool {
		ti, si := key(items[i])
		tj, sj := key(items[j])
		less := ti.Before(tj) || (ti.Equal(tj) && si < sj) || (ti.Equal(tj) && si == sj && items[i].num < items[j].num)
		if asc {
			return less
		}
		return !less && !(ti.Equal(tj) && si == sj && items[i].num == items[j].num)
	})
}

// findItem implements FindItem with indexed or fractional paging.
func (x *exchange) findItem() (*opResponse, *soapFault) {
	trav, sh, view, ids, f := x.parseFind("ItemQueryTraversalType", []string{"Shallow", "SoftDeleted", "Associated"}, "Item")
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	var unsupported string
	for _, name := range []string{"SeekToConditionPageItemView", "CalendarView", "ContactsView", "GroupBy", "DistinguishedGroupBy", "Restriction", "QueryString"} {
		if x.body.child(nsMessages, name) != nil {
			unsupported = name
		}
	}
	badField := ""
	for fld := range sh.fields {
		if findItemForbidden(fld) {
			badField = fld
		}
	}
	for _, id := range ids {
		switch {
		case unsupported != "":
			resp.messages = append(resp.messages, responseMessage{code: ews.ErrorUnsupportedQueryFilter, text: "scctest does not evaluate " + unsupported + " in FindItem."})
			continue
		case badField != "":
			resp.messages = append(resp.messages, responseMessage{code: ews.ErrorInvalidPropertyRequest, text: "The property " + badField + " is not valid for this operation.", values: []nameValue{{"FieldURI", badField}}})
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
		var items []*item
		if trav == "Shallow" {
			items = append(items, t.mb.folderItems(t.k)...)
			sortItems(items, x.body)
		}
		resp.messages = append(resp.messages, success(func(m *elem) {
			rf := m.CreateElement("m:RootFolder")
			start, end := view.window(len(items))
			view.pagingAttrs(rf, start, end, len(items))
			is := rf.CreateElement("t:Items")
			for _, it := range items[start:end] {
				x.writeItem(is, t.mb, it, sh, inFindItem)
			}
		}))
	}
	return resp, nil
}

// resolveItem resolves a t:ItemId to a stored item the caller may access.
func (x *exchange) resolveItem(n *node) (*mailbox, *item, ews.ResponseCode, *soapFault) {
	if !n.is(nsTypes, "ItemId") {
		if n.name.Space == nsTypes && (n.name.Local == "OccurrenceItemId" || n.name.Local == "RecurringMasterItemId" || n.name.Local == "RootItemId") {
			return nil, nil, ews.ErrorItemNotFound, nil
		}
		return nil, nil, "", schemaFault(n, "The element '"+n.name.Local+"' is not an item id.")
	}
	id, ok := n.attr("Id")
	if !ok {
		return nil, nil, "", schemaFault(n, "The required attribute 'Id' is missing.")
	}
	if strings.TrimSpace(id) == "" {
		return nil, nil, ews.ErrorInvalidIdEmpty, nil
	}
	kind, mbx, num, ok := decodeID(id)
	if !ok {
		return nil, nil, ews.ErrorInvalidIdMalformed, nil
	}
	if kind == idFolder {
		return nil, nil, ews.ErrorCannotUseFolderIdForItemId, nil
	}
	if int(mbx) >= len(x.s.dir.mailboxes) {
		return nil, nil, ews.ErrorItemNotFound, nil
	}
	mb := x.s.dir.mailboxes[mbx]
	if mb != x.acting {
		return nil, nil, ews.ErrorAccessDenied, nil
	}
	it := mb.items[num]
	if it == nil {
		return nil, nil, ews.ErrorItemNotFound, nil
	}
	return mb, it, "", nil
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
	for _, id := range ids {
		mb, it, code, f := x.resolveItem(id)
		if f != nil {
			return nil, f
		}
		if code != "" {
			resp.messages = append(resp.messages, failure(code))
			continue
		}
		resp.messages = append(resp.messages, success(func(m *elem) {
			x.writeItem(m.CreateElement("m:Items"), mb, it, sh, inGetItem)
		}))
	}
	return resp, nil
}

// recipients reads t:Mailbox/t:EmailAddress children.
func recipients(n *node) []string {
	var out []string
	if n == nil {
		return nil
	}
	for _, m := range n.kids {
		if a := m.child(nsTypes, "EmailAddress").trimmed(); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// createItem implements CreateItem for t:Message with SaveOnly, SendOnly
// and SendAndSaveCopy.
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
	// Where a saved copy goes.
	var saveTo target
	var saveCode ews.ResponseCode
	if sf := x.body.child(nsMessages, "SavedItemFolderId"); sf != nil && len(sf.kids) == 1 {
		var f *soapFault
		saveTo, saveCode, f = x.resolveFolder(sf.kids[0])
		if f != nil {
			return nil, f
		}
	} else if x.acting == nil {
		saveCode = ews.ErrorMissingEmailAddress
	} else {
		saveTo = target{x.acting, fDrafts}
		if disp == "SendAndSaveCopy" {
			saveTo.k = fSentItems
		}
	}
	for _, in := range items {
		if !in.is(nsTypes, "Message") {
			resp.messages = append(resp.messages, responseMessage{code: ews.ErrorInvalidOperation, text: "scctest can create t:Message items only, not " + in.name.Local + "."})
			continue
		}
		if !hasDisp {
			resp.messages = append(resp.messages, failure(ews.ErrorMessageDispositionRequired))
			continue
		}
		if saveCode != "" && disp != "SendOnly" {
			resp.messages = append(resp.messages, failure(saveCode))
			continue
		}
		m := Message{
			Subject: in.child(nsTypes, "Subject").text,
			To:      recipients(in.child(nsTypes, "ToRecipients")),
			Cc:      recipients(in.child(nsTypes, "CcRecipients")),
			IsRead:  true,
		}
		if b := in.child(nsTypes, "Body"); b != nil {
			m.Body = b.text
			m.BodyType = BodyType(b.attrOr("BodyType", "Text"))
			if m.BodyType != BodyHTML {
				m.BodyType = BodyText
			}
		}
		if r := in.child(nsTypes, "IsRead"); r != nil {
			m.IsRead = r.trimmed() == "true" || r.trimmed() == "1"
		}
		if x.acting != nil {
			m.From = x.acting.info.PrimarySMTP
		}
		if fr := in.child(nsTypes, "From"); fr != nil {
			if a := fr.path(nsTypes, "Mailbox", "EmailAddress").trimmed(); a != "" {
				m.From = a
			}
		}
		if disp == "SaveOnly" {
			it := x.s.newItemLocked(saveTo.mb, saveTo.k, m, true)
			mb := saveTo.mb
			resp.messages = append(resp.messages, success(func(e *elem) {
				x.writeItem(e.CreateElement("m:Items"), mb, it, shape{base: "IdOnly"}, inGetItem)
			}))
			continue
		}
		if x.acting == nil {
			resp.messages = append(resp.messages, failure(ews.ErrorMissingEmailAddress))
			continue
		}
		if len(m.To)+len(m.Cc)+len(recipients(in.child(nsTypes, "BccRecipients"))) == 0 {
			resp.messages = append(resp.messages, responseMessage{code: ews.ErrorInvalidRecipients, text: "At least one recipient is required."})
			continue
		}
		x.deliver(m, in)
		if disp == "SendAndSaveCopy" {
			x.s.newItemLocked(saveTo.mb, saveTo.k, m, false)
		}
		resp.messages = append(resp.messages, success(func(e *elem) { e.CreateElement("m:Items") }))
	}
	return resp, nil
}

// deliver puts a sent message into the inbox of every local recipient.
func (x *exchange) deliver(m Message, in *node) {
	seen := map[*mailbox]bool{}
	all := append(append(append([]string(nil), m.To...), m.Cc...), recipients(in.child(nsTypes, "BccRecipients"))...)
	for _, a := range all {
		mb := x.s.dir.lookupAddr(a)
		if mb == nil || seen[mb] {
			continue
		}
		seen[mb] = true
		c := m
		c.IsRead = false
		c.Received = time.Time{}
		x.s.newItemLocked(mb, fInbox, c, false)
	}
}

// deleteItem implements DeleteItem.
func (x *exchange) deleteItem() (*opResponse, *soapFault) {
	dt, ok := x.body.attr("DeleteType")
	if !ok {
		return nil, schemaFault(x.body, "The required attribute 'DeleteType' is missing.")
	}
	switch dt {
	case "HardDelete", "SoftDelete", "MoveToDeletedItems":
	default:
		return nil, schemaFault(x.body, "The 'DeleteType' attribute is invalid - The value '"+dt+"' is invalid according to its datatype 'DisposalType'.")
	}
	ids, f := x.folderList(x.body, "ItemIds")
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	for _, id := range ids {
		mb, it, code, f := x.resolveItem(id)
		if f != nil {
			return nil, f
		}
		if code != "" {
			resp.messages = append(resp.messages, failure(code))
			continue
		}
		dest := fRecoverableItemsPurges
		switch dt {
		case "SoftDelete":
			dest = fRecoverableItemsDeletions
		case "MoveToDeletedItems":
			dest = fDeletedItems
			if it.folder == fDeletedItems {
				dest = fRecoverableItemsDeletions
			}
		}
		mb.unfile(it)
		if dest == fRecoverableItemsPurges {
			// A hard-deleted item is gone for EWS clients; the fake
			// drops it rather than keeping it in Purges.
			delete(mb.items, it.num)
		} else {
			it.folder = dest
			it.changeKey++
			mb.file(it)
		}
		resp.messages = append(resp.messages, success(nil))
	}
	return resp, nil
}
