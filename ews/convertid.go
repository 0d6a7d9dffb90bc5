package ews

import (
	"context"
	"strconv"

	"github.com/beevik/etree"
)

// IDFormat is an item or folder id format (IdFormatType).
type IDFormat string

// The id formats ConvertId understands.
const (
	FormatEwsLegacyID IDFormat = "EwsLegacyId"
	FormatEwsID       IDFormat = "EwsId"
	FormatEntryID     IDFormat = "EntryId"
	FormatHexEntryID  IDFormat = "HexEntryId"
	FormatStoreID     IDFormat = "StoreId"
	FormatOwaID       IDFormat = "OwaId"
)

func (f IDFormat) valid() bool {
	switch f {
	case FormatEwsLegacyID, FormatEwsID, FormatEntryID, FormatHexEntryID, FormatStoreID, FormatOwaID:
		return true
	}
	return false
}

// AlternateID is an id in a given format, in a given mailbox
// (t:AlternateId).
type AlternateID struct {
	Format IDFormat
	ID     string
	// Mailbox is the SMTP address of the mailbox holding the item; required.
	Mailbox string
	// IsArchive says the id is in the mailbox's archive.
	IsArchive bool
}

// ConvertIDRequest is the input of [Client.ConvertID].
type ConvertIDRequest struct {
	// SourceIDs are the ids to convert, at least one.
	SourceIDs []AlternateID
	// DestinationFormat is the format to convert to.
	DestinationFormat IDFormat
}

// ConvertIDResponse is the result of [Client.ConvertID].
type ConvertIDResponse struct {
	ServerVersion *ServerVersionInfo
	// Results has one entry per source id, in request order.
	Results []ConvertIDResult
}

// ConvertIDResult is the outcome for one id.
type ConvertIDResult struct {
	ResponseMessage
	// AlternateID is the converted id; zero when Err is set.
	AlternateID AlternateID
	// Err is a *ResponseError when Class == ClassError.
	Err error
}

func (r *ConvertIDResult) setMessage(m ResponseMessage, err error) { r.ResponseMessage, r.Err = m, err }

// ConvertID runs the EWS ConvertId operation. Its response carries
// ServerVersionInfo even when the ids are rejected, which makes a ConvertId
// of a dummy id a cheap probe of the server's version.
func (c *Client) ConvertID(ctx context.Context, req *ConvertIDRequest, opts ...CallOption) (*ConvertIDResponse, error) {
	if req == nil {
		return nil, invalidf("ConvertId: request is nil")
	}
	op := opConvertID
	if !req.DestinationFormat.valid() {
		return nil, invalidf("ConvertId: destination format %q is not an id format; use a constant such as ews.FormatEwsID", clip(string(req.DestinationFormat)))
	}
	if len(req.SourceIDs) == 0 {
		return nil, invalidf("ConvertId: no source ids given")
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:ConvertId")
		e.CreateAttr("DestinationFormat", string(req.DestinationFormat))
		list := e.CreateElement("m:SourceIds")
		for i, s := range req.SourceIDs {
			field := "SourceIds[" + strconv.Itoa(i) + "]"
			if !s.Format.valid() {
				return invalidf("ConvertId: %s format %q is not an id format", field, clip(string(s.Format)))
			}
			if s.ID == "" {
				return invalidf("ConvertId: %s has an empty id", field)
			}
			if reason := checkAddress(s.Mailbox, "the SMTP address of the mailbox"); reason != "" {
				return invalidf("ConvertId: %s mailbox %q %s", field, clip(s.Mailbox), reason)
			}
			if err := checkText(op.name, field, s.ID); err != nil {
				return err
			}
			a := list.CreateElement("t:AlternateId")
			a.CreateAttr("Format", string(s.Format))
			a.CreateAttr("Id", s.ID)
			a.CreateAttr("Mailbox", s.Mailbox)
			if s.IsArchive {
				a.CreateAttr("IsArchive", "true")
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parseConvertID(soap, len(req.SourceIDs))
}

func parseConvertID(soap *soapResponse, want int) (*ConvertIDResponse, error) {
	results, err := parseResults(soap, opConvertID, want, func(r *ConvertIDResult, e *etree.Element) {
		if a := childNS(e, NamespaceMessages, "AlternateId"); a != nil {
			r.AlternateID = AlternateID{
				Format:    IDFormat(a.SelectAttrValue("Format", "")),
				ID:        a.SelectAttrValue("Id", ""),
				Mailbox:   a.SelectAttrValue("Mailbox", ""),
				IsArchive: parseBool(a.SelectAttrValue("IsArchive", "")),
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return &ConvertIDResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}
