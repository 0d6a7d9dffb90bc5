package scctest

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// Attachments: CreateAttachment, GetAttachment, DeleteAttachment on the
// mailbox model. File attachments keep their bytes; item attachments keep
// the attached item: the properties the model types (Subject, Body,
// recipients, Importance, Sensitivity, Categories, IsRead, ItemClass) and
// every other child verbatim (mbx.RawProperty), written back in schema
// order. The size limit is the model's (WithMaxAttachmentSize).

// attachmentKinds maps the item elements an item attachment may hold to
// model kinds.
var attachmentKinds = map[string]mbx.ItemKind{
	"Item": mbx.Message, "Message": mbx.Message, "CalendarItem": mbx.CalendarItem, "Contact": mbx.Contact, "Task": mbx.Task,
}

// withAttachments gives an AttachmentInfoResponseMessage its required
// (possibly empty) m:Attachments.
func withAttachments(r responseMessage) responseMessage {
	if r.payload == nil {
		r.payload = func(m *elem) { m.CreateElement("m:Attachments") }
	}
	return r
}

// parseAttachment reads a t:FileAttachment or t:ItemAttachment.
func parseAttachment(n *node, depth int) (mbx.Attachment, *responseMessage) {
	a := mbx.Attachment{
		Name:        n.child(nsTypes, "Name").value(),
		ContentType: n.child(nsTypes, "ContentType").trimmed(),
		ContentID:   n.child(nsTypes, "ContentId").trimmed(),
	}
	if v := n.child(nsTypes, "IsInline").trimmed(); v == "true" || v == "1" {
		a.IsInline = true
	}
	switch {
	case n.is(nsTypes, "FileAttachment"):
		if c := n.child(nsTypes, "Content"); c != nil {
			b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.text), ""))
			if err != nil {
				return a, &responseMessage{code: ews.ErrorInvalidRequest, text: "The t:Content of attachment " + strconv.Quote(a.Name) + " is not base64."}
			}
			a.Content = b
		}
		if a.ContentType == "" {
			a.ContentType = "application/octet-stream"
		}
	case n.is(nsTypes, "ItemAttachment"):
		var in *node
		for _, k := range n.kids {
			if _, ok := attachmentKinds[k.name.Local]; ok && k.name.Space == nsTypes {
				in = k
			}
		}
		if in == nil {
			return a, &responseMessage{code: ews.ErrorInvalidRequest, text: "The item attachment " + strconv.Quote(a.Name) + " holds no item."}
		}
		it := attachedItem(in)
		a.Item = &it
		if atts := in.child(nsTypes, "Attachments"); atts != nil && depth < 12 {
			for _, k := range atts.kids {
				na, rm := parseAttachment(k, depth+1)
				if rm != nil {
					return a, rm
				}
				a.Nested = append(a.Nested, na)
			}
		}
	default:
		return a, &responseMessage{code: ews.ErrorInvalidOperation, text: "scctest attaches t:FileAttachment and t:ItemAttachment, not " + n.name.Local + "."}
	}
	return a, nil
}

// attachedItem is the model item of an item attachment's item element.
func attachedItem(in *node) mbx.Item {
	it := mbx.Item{Kind: attachmentKinds[in.name.Local], IsRead: true}
	for _, k := range in.kids {
		if k.name.Space != nsTypes {
			continue
		}
		switch k.name.Local {
		case "Subject":
			it.Subject = k.value()
		case "Body":
			it.Body = mbx.Body{Type: mbx.BodyText, Content: k.text}
			if k.attrOr("BodyType", "Text") == "HTML" {
				it.Body.Type = mbx.BodyHTML
			}
		case "ItemClass":
			it.ItemClass = k.trimmed()
		case "Importance":
			it.Importance = k.trimmed()
		case "Sensitivity":
			it.Sensitivity = k.trimmed()
		case "IsRead":
			it.IsRead = k.trimmed() == "true" || k.trimmed() == "1"
		case "Categories":
			for _, c := range k.kids {
				it.Categories = append(it.Categories, c.value())
			}
		case "ToRecipients":
			it.To = recipients(k)
		case "CcRecipients":
			it.Cc = recipients(k)
		case "BccRecipients":
			it.Bcc = recipients(k)
		case "Attachments", "ItemId", "ParentFolderId":
			// Nested attachments are parsed by parseAttachment; ids are
			// the model's.
		default:
			it.Raw = append(it.Raw, mbx.RawProperty{Name: rawName(k.name.Local), XML: rawXML(k)})
		}
	}
	return it
}

// createAttachment implements CreateAttachment.
func (x *exchange) createAttachment() (*opResponse, *soapFault) {
	parent := x.body.child(nsMessages, "ParentItemId")
	if parent == nil {
		return nil, schemaFault(x.body, "The element 'CreateAttachment' in namespace '"+nsMessages+"' has incomplete content. List of possible elements expected: 'ParentItemId' in namespace '"+nsMessages+"'.")
	}
	atts, f := x.folderList(x.body, "Attachments")
	if f != nil {
		return nil, f
	}
	// The parent is named by an m:ParentItemId, an ItemIdType.
	pid := &node{name: parent.name, attrs: parent.attrs, src: parent.src, off: parent.off}
	pid.name.Space, pid.name.Local = nsTypes, "ItemId"
	mb, iid, code, f := x.resolveItem(pid)
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	for _, n := range atts {
		if code != "" {
			resp.messages = append(resp.messages, withAttachments(failure(code)))
			continue
		}
		a, rm := parseAttachment(n, 0)
		if rm != nil {
			resp.messages = append(resp.messages, withAttachments(*rm))
			continue
		}
		aid, ck, err := x.s.box(mb).AddAttachment(iid, a)
		if err != nil {
			resp.messages = append(resp.messages, withAttachments(modelFailure(err)))
			continue
		}
		tag := "t:" + n.name.Local
		resp.messages = append(resp.messages, success(func(m *elem) {
			e := m.CreateElement("m:Attachments").CreateElement(tag)
			ae := e.CreateElement("t:AttachmentId")
			ae.CreateAttr("Id", aid)
			ae.CreateAttr("RootItemId", iid)
			ae.CreateAttr("RootItemChangeKey", ck)
		}))
	}
	return resp, nil
}

// attachmentID resolves a t:AttachmentId to its mailbox.
func (x *exchange) attachmentID(n *node) (*mailbox, string, ews.ResponseCode, *soapFault) {
	if !n.is(nsTypes, "AttachmentId") {
		return nil, "", "", schemaFault(n, "The element '"+n.name.Local+"' is not an attachment id.")
	}
	id, ok := n.attr("Id")
	if !ok {
		return nil, "", "", schemaFault(n, "The required attribute 'Id' is missing.")
	}
	if strings.TrimSpace(id) == "" {
		return nil, "", ews.ErrorInvalidIdEmpty, nil
	}
	info, err := mbx.DecodeID(id)
	if err != nil || info.Kind != mbx.KindAttachmentID {
		return nil, "", ews.ErrorInvalidAttachmentId, nil
	}
	mb, code := x.idMailbox(id)
	return mb, id, code, nil
}

// getAttachment implements GetAttachment.
func (x *exchange) getAttachment() (*opResponse, *soapFault) {
	ids, f := x.folderList(x.body, "AttachmentIds")
	if f != nil {
		return nil, f
	}
	shape := x.body.child(nsMessages, "AttachmentShape")
	bodyType := shape.child(nsTypes, "BodyType").trimmed()
	resp := &opResponse{op: x.op}
	for _, n := range ids {
		mb, id, code, f := x.attachmentID(n)
		if f != nil {
			return nil, f
		}
		if code != "" {
			resp.messages = append(resp.messages, withAttachments(failure(code)))
			continue
		}
		a, _, err := x.s.box(mb).GetAttachment(id)
		if err != nil {
			resp.messages = append(resp.messages, withAttachments(modelFailure(err)))
			continue
		}
		resp.messages = append(resp.messages, success(func(m *elem) {
			writeAttachment(m.CreateElement("m:Attachments"), a, bodyType)
		}))
	}
	return resp, nil
}

// writeAttachment writes a full attachment (GetAttachment).
func writeAttachment(parent *elem, a mbx.Attachment, bodyType string) {
	tag := "t:FileAttachment"
	if a.Item != nil {
		tag = "t:ItemAttachment"
	}
	e := parent.CreateElement(tag)
	e.CreateElement("t:AttachmentId").CreateAttr("Id", a.ID)
	e.CreateElement("t:Name").SetText(a.Name)
	if a.ContentType != "" {
		e.CreateElement("t:ContentType").SetText(a.ContentType)
	}
	if a.ContentID != "" {
		e.CreateElement("t:ContentId").SetText(a.ContentID)
	}
	if a.Item == nil {
		e.CreateElement("t:Size").SetText(strconv.Itoa(len(a.Content)))
	}
	e.CreateElement("t:LastModifiedTime").SetText(ewsTime(a.LastModified))
	e.CreateElement("t:IsInline").SetText(boolStr(a.IsInline))
	if a.Item == nil {
		e.CreateElement("t:Content").SetText(base64.StdEncoding.EncodeToString(a.Content))
		return
	}
	writeAttachedItem(e, *a.Item, a.Nested, bodyType)
}

// writeAttachedItem writes the item of an item attachment, its typed
// properties and raw ones in schema order.
func writeAttachedItem(parent *elem, it mbx.Item, nested []mbx.Attachment, bodyType string) {
	kind := it.Kind.String()
	e := parent.CreateElement("t:" + kind)
	seq := strings.Fields(itemSequences[kind])
	for _, name := range seq {
		switch name {
		case "ItemClass":
			if it.ItemClass != "" {
				e.CreateElement("t:ItemClass").SetText(it.ItemClass)
			}
		case "Subject":
			e.CreateElement("t:Subject").SetText(it.Subject)
		case "Sensitivity":
			if it.Sensitivity != "" {
				e.CreateElement("t:Sensitivity").SetText(it.Sensitivity)
			}
		case "Body":
			b := it.Body
			if bodyType == "Text" && b.Type == mbx.BodyHTML {
				b = mbx.Body{Type: mbx.BodyText, Content: mbx.HTMLToText(b.Content)}
			}
			if bodyType == "HTML" && b.Type == mbx.BodyText {
				b = mbx.Body{Type: mbx.BodyHTML, Content: mbx.TextToHTML(b.Content)}
			}
			be := e.CreateElement("t:Body")
			be.CreateAttr("BodyType", string(b.Type))
			be.SetText(b.Content)
		case "Attachments":
			if len(nested) > 0 {
				ae := e.CreateElement("t:Attachments")
				for _, n := range nested {
					writeAttachment(ae, n, bodyType)
				}
			}
		case "Categories":
			if len(it.Categories) > 0 {
				ce := e.CreateElement("t:Categories")
				for _, c := range it.Categories {
					ce.CreateElement("t:String").SetText(c)
				}
			}
		case "Importance":
			if it.Importance != "" {
				e.CreateElement("t:Importance").SetText(it.Importance)
			}
		case "ToRecipients", "CcRecipients", "BccRecipients":
			list := map[string][]mbx.Address{"ToRecipients": it.To, "CcRecipients": it.Cc, "BccRecipients": it.Bcc}[name]
			if kind == "Message" && len(list) > 0 {
				re := e.CreateElement("t:" + name)
				for _, a := range list {
					me := re.CreateElement("t:Mailbox")
					if a.Name != "" {
						me.CreateElement("t:Name").SetText(a.Name)
					}
					me.CreateElement("t:EmailAddress").SetText(a.Email)
				}
			}
		case "IsRead":
			if kind == "Message" {
				e.CreateElement("t:IsRead").SetText(boolStr(it.IsRead))
			}
		default:
			writeRaw(e, it.Raw, rawName(name))
		}
	}
}

// deleteAttachment implements DeleteAttachment.
func (x *exchange) deleteAttachment() (*opResponse, *soapFault) {
	ids, f := x.folderList(x.body, "AttachmentIds")
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	for _, n := range ids {
		mb, id, code, f := x.attachmentID(n)
		if f != nil {
			return nil, f
		}
		if code != "" {
			resp.messages = append(resp.messages, failure(code))
			continue
		}
		root, ck, err := x.s.box(mb).DeleteAttachment(id)
		if err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		resp.messages = append(resp.messages, success(func(m *elem) {
			r := m.CreateElement("m:RootItemId")
			r.CreateAttr("RootItemId", root)
			r.CreateAttr("RootItemChangeKey", ck)
		}))
	}
	return resp, nil
}
