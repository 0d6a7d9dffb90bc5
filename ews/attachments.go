package ews

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Attachment is a file or item attachment (t:FileAttachment,
// t:ItemAttachment). In an item's Attachments list only the headers are
// set; GetAttachment fills Content or Item.
type Attachment struct {
	// Kind is AttachmentFile or AttachmentItem.
	Kind string
	// AttachmentID identifies the attachment; responses to CreateAttachment
	// also carry the parent item's id and new ChangeKey in it.
	AttachmentID     AttachmentID
	Name             string
	ContentType      string
	ContentID        string
	ContentLocation  string
	Size             int
	LastModifiedTime time.Time
	IsInline         bool
	// IsContactPhoto marks a contact's picture (file attachments only).
	IsContactPhoto bool
	// Content is the file's bytes (file attachments).
	Content []byte
	// Item is the attached item (item attachments).
	Item *Item
}

// The attachment kinds ([Attachment].Kind).
const (
	AttachmentFile = "FileAttachment"
	AttachmentItem = "ItemAttachment"
)

// AttachmentID is the id of an attachment. RootItemID and RootItemChangeKey
// name the item the attachment belongs to, as responses report it; requests
// send only ID.
type AttachmentID struct {
	ID                string
	RootItemID        string
	RootItemChangeKey string
}

func parseAttachmentID(e *etree.Element) AttachmentID {
	return AttachmentID{ID: e.SelectAttrValue("Id", ""), RootItemID: e.SelectAttrValue("RootItemId", ""), RootItemChangeKey: e.SelectAttrValue("RootItemChangeKey", "")}
}

func parseAttachment(e *etree.Element) Attachment {
	a := Attachment{Kind: e.Tag}
	for _, c := range e.ChildElements() {
		if c.NamespaceURI() != NamespaceTypes {
			continue
		}
		switch c.Tag {
		case "AttachmentId":
			a.AttachmentID = parseAttachmentID(c)
		case "Name":
			a.Name = strings.TrimSpace(c.Text())
		case "ContentType":
			a.ContentType = strings.TrimSpace(c.Text())
		case "ContentId":
			a.ContentID = strings.TrimSpace(c.Text())
		case "ContentLocation":
			a.ContentLocation = strings.TrimSpace(c.Text())
		case "Size":
			a.Size = parseInt(c.Text())
		case "LastModifiedTime":
			a.LastModifiedTime = parseTime(c.Text())
		case "IsInline":
			a.IsInline = parseBool(c.Text())
		case "IsContactPhoto":
			a.IsContactPhoto = parseBool(c.Text())
		case "Content":
			a.Content = parseBase64(c.Text())
		default:
			if a.Kind == AttachmentItem && a.Item == nil {
				it := parseItem(c)
				a.Item = &it
			}
		}
	}
	return a
}

// parseAttachments returns the attachments of a t:Attachments or
// m:Attachments element.
func parseAttachments(list *etree.Element) []Attachment {
	var out []Attachment
	for _, c := range list.ChildElements() {
		if c.Tag == AttachmentFile || c.Tag == AttachmentItem || c.Tag == "ReferenceAttachment" {
			out = append(out, parseAttachment(c))
		}
	}
	return out
}

var (
	opCreateAttachment = &operation{name: "CreateAttachment", idempotent: false, timeZone: true}
	opGetAttachment    = &operation{name: "GetAttachment", idempotent: true, timeZone: true}
	opDeleteAttachment = &operation{name: "DeleteAttachment", idempotent: true}
)

// write appends a t:FileAttachment or t:ItemAttachment with the fields a
// client sets: Name (required), ContentType, ContentID, ContentLocation,
// IsInline, and IsContactPhoto and Content, or Item.
func (a *Attachment) write(op, where string, parent *etree.Element) error {
	kind := a.Kind
	if kind == "" {
		kind = AttachmentFile
		if a.Item != nil {
			kind = AttachmentItem
		}
	}
	switch kind {
	case AttachmentFile:
		if a.Item != nil {
			return invalidf("%s: %s is a file attachment with an Item; use Kind AttachmentItem", op, where)
		}
	case AttachmentItem:
		if a.Item == nil {
			// Exchange: ErrorMissingItemForCreateItemAttachment.
			return invalidf("%s: %s is an item attachment without an Item", op, where)
		}
		if len(a.Content) > 0 || a.IsContactPhoto {
			return invalidf("%s: %s is an item attachment; Content and IsContactPhoto are for file attachments", op, where)
		}
	default:
		return invalidf("%s: %s.Kind %q is neither FileAttachment nor ItemAttachment", op, where, clip(kind))
	}
	if a.Name == "" {
		// Exchange: ErrorRequiredPropertyMissing.
		return invalidf("%s: %s has no Name", op, where)
	}
	if err := checkText(op, where, a.Name+a.ContentType+a.ContentID+a.ContentLocation); err != nil {
		return err
	}
	e := parent.CreateElement("t:" + kind)
	e.CreateElement("t:Name").SetText(a.Name)
	for _, f := range [...]struct{ tag, v string }{{"ContentType", a.ContentType}, {"ContentId", a.ContentID}, {"ContentLocation", a.ContentLocation}} {
		if f.v != "" {
			e.CreateElement("t:" + f.tag).SetText(f.v)
		}
	}
	if a.IsInline {
		e.CreateElement("t:IsInline").SetText("true")
	}
	if kind == AttachmentItem {
		return a.Item.write(op, where+".Item", e, nil, KindMessage)
	}
	if a.IsContactPhoto {
		e.CreateElement("t:IsContactPhoto").SetText("true")
	}
	e.CreateElement("t:Content").SetText(base64.StdEncoding.EncodeToString(a.Content))
	return nil
}

// AttachmentResponse is the result of CreateAttachment and GetAttachment.
type AttachmentResponse struct {
	ServerVersion *ServerVersionInfo
	// Results has one entry per attachment of the request, in request
	// order.
	Results []AttachmentResult
}

// AttachmentResult is the outcome for one attachment.
type AttachmentResult struct {
	ResponseMessage
	// Attachment is the attachment: after CreateAttachment its
	// AttachmentID, whose RootItemChangeKey is the parent item's new
	// ChangeKey (the old one is stale); after GetAttachment all of it.
	Attachment Attachment
	// Err is a *ResponseError when Class == ClassError.
	Err error
}

func (r *AttachmentResult) setMessage(m ResponseMessage, err error) {
	r.ResponseMessage, r.Err = m, err
}

func parseAttachmentResponse(soap *soapResponse, op *operation, want int) (*AttachmentResponse, error) {
	results, err := parseResults(soap, op, want, func(r *AttachmentResult, e *etree.Element) {
		if list := childNS(e, NamespaceMessages, "Attachments"); list != nil {
			if as := parseAttachments(list); len(as) > 0 {
				r.Attachment = as[0]
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return &AttachmentResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}

// CreateAttachment runs the EWS CreateAttachment operation: it adds
// attachments to the item parent (its ChangeKey, when set, must be
// current), one result per attachment in request order. Exchange's request
// size limit (about 25 to 48 MB of content, depending on the deployment)
// shows as an HTTP error, not a ResponseCode. It is not repeated after an
// ambiguous failure.
func (c *Client) CreateAttachment(ctx context.Context, parent ItemID, attachments []Attachment, opts ...CallOption) (*AttachmentResponse, error) {
	op := opCreateAttachment
	if len(attachments) == 0 {
		return nil, invalidf("CreateAttachment: no attachments given")
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:CreateAttachment")
		if parent.ID == "" {
			return invalidf("CreateAttachment: the parent item has an empty ID")
		}
		if err := checkText(op.name, "parent item id", parent.ID+parent.ChangeKey); err != nil {
			return err
		}
		p := e.CreateElement("m:ParentItemId")
		p.CreateAttr("Id", parent.ID)
		if parent.ChangeKey != "" {
			p.CreateAttr("ChangeKey", parent.ChangeKey)
		}
		list := e.CreateElement("m:Attachments")
		for i := range attachments {
			if err := attachments[i].write(op.name, "attachments["+strconv.Itoa(i)+"]", list); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parseAttachmentResponse(soap, op, len(attachments))
}

// GetAttachmentRequest is the input of [Client.GetAttachment].
type GetAttachmentRequest struct {
	// AttachmentIDs are the attachments to get; only their ID is sent.
	AttachmentIDs []AttachmentID
	// IncludeMimeContent and BodyType shape an attached item, as in
	// GetItemRequest.
	IncludeMimeContent bool
	BodyType           BodyType
	// AdditionalProperties and ExtendedProperties add properties of an
	// attached item.
	AdditionalProperties []FieldURI
	ExtendedProperties   []ExtendedFieldURI
}

// GetAttachment runs the EWS GetAttachment operation: the whole attachments
// (a file's Content, an attached item as if with AllProperties), one result
// per id in request order.
func (c *Client) GetAttachment(ctx context.Context, req *GetAttachmentRequest, opts ...CallOption) (*AttachmentResponse, error) {
	if req == nil {
		return nil, invalidf("GetAttachment: request is nil")
	}
	op := opGetAttachment
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:GetAttachment")
		s := e.CreateElement("m:AttachmentShape")
		if req.IncludeMimeContent {
			s.CreateElement("t:IncludeMimeContent").SetText("true")
		}
		switch req.BodyType {
		case "":
		case BodyBest, BodyText, BodyHTML:
			s.CreateElement("t:BodyType").SetText(string(req.BodyType))
		default:
			return invalidf("GetAttachment: body type %q is none of Best, Text, HTML", clip(string(req.BodyType)))
		}
		if err := writeAdditional(op.name, s, req.AdditionalProperties, req.ExtendedProperties); err != nil {
			return err
		}
		return writeAttachmentIDs(op.name, e, req.AttachmentIDs)
	})
	if err != nil {
		return nil, err
	}
	return parseAttachmentResponse(soap, op, len(req.AttachmentIDs))
}

// writeAttachmentIDs appends m:AttachmentIds with the ids alone
// (RequestAttachmentIdType has no RootItemId).
func writeAttachmentIDs(op string, parent *etree.Element, ids []AttachmentID) error {
	if len(ids) == 0 {
		return invalidf("%s: no AttachmentIds given", op)
	}
	list := parent.CreateElement("m:AttachmentIds")
	for i, id := range ids {
		if id.ID == "" {
			return invalidf("%s: AttachmentIds[%d] has an empty ID", op, i)
		}
		if err := checkText(op, "attachment id", id.ID); err != nil {
			return err
		}
		list.CreateElement("t:AttachmentId").CreateAttr("Id", id.ID)
	}
	return nil
}

// DeleteAttachmentResponse is the result of [Client.DeleteAttachment].
type DeleteAttachmentResponse struct {
	ServerVersion *ServerVersionInfo
	// Results has one entry per attachment, in request order.
	Results []DeleteAttachmentResult
}

// DeleteAttachmentResult is the outcome for one attachment.
type DeleteAttachmentResult struct {
	ResponseMessage
	// RootItemID is the item the attachment belonged to, with its new
	// ChangeKey.
	RootItemID ItemID
	// Err is a *ResponseError when Class == ClassError.
	Err error
}

func (r *DeleteAttachmentResult) setMessage(m ResponseMessage, err error) {
	r.ResponseMessage, r.Err = m, err
}

// DeleteAttachment runs the EWS DeleteAttachment operation, one result per
// id in request order.
func (c *Client) DeleteAttachment(ctx context.Context, ids []AttachmentID, opts ...CallOption) (*DeleteAttachmentResponse, error) {
	op := opDeleteAttachment
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		return writeAttachmentIDs(op.name, b.CreateElement("m:DeleteAttachment"), ids)
	})
	if err != nil {
		return nil, err
	}
	return parseDeleteAttachment(soap, len(ids))
}

func parseDeleteAttachment(soap *soapResponse, want int) (*DeleteAttachmentResponse, error) {
	results, err := parseResults(soap, opDeleteAttachment, want, func(r *DeleteAttachmentResult, e *etree.Element) {
		if root := childNS(e, NamespaceMessages, "RootItemId"); root != nil {
			r.RootItemID = ItemID{ID: root.SelectAttrValue("RootItemId", ""), ChangeKey: root.SelectAttrValue("RootItemChangeKey", "")}
		}
	})
	if err != nil {
		return nil, err
	}
	return &DeleteAttachmentResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}
