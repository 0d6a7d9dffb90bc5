package ews

import (
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
