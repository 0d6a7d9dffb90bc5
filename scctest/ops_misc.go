package scctest

import (
	"encoding/base64"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// Id formats of ConvertId. Every format carries the same record as
// an EwsId, so conversions are lossless in all directions.
func encodeAltID(format string, raw []byte) string {
	switch format {
	case "EwsId", "EwsLegacyId":
		return base64.StdEncoding.EncodeToString(raw)
	case "EntryId":
		return base64.StdEncoding.EncodeToString(append([]byte{0, 0, 0, 0}, raw...))
	case "HexEntryId":
		return strings.ToUpper(hex.EncodeToString(append([]byte{0, 0, 0, 0}, raw...)))
	case "StoreId":
		return base64.StdEncoding.EncodeToString(append([]byte{'S'}, raw...))
	case "OwaId":
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	return ""
}

func decodeAltID(format, id string) ([]byte, bool) {
	var b []byte
	var err error
	id = strings.TrimSpace(id)
	switch format {
	case "EwsId", "EwsLegacyId":
		b, err = base64.StdEncoding.DecodeString(id)
	case "EntryId":
		b, err = base64.StdEncoding.DecodeString(id)
		if err == nil && len(b) > 4 {
			b = b[4:]
		}
	case "HexEntryId":
		b, err = hex.DecodeString(id)
		if err == nil && len(b) > 4 {
			b = b[4:]
		}
	case "StoreId":
		b, err = base64.StdEncoding.DecodeString(id)
		if err == nil && len(b) > 1 {
			b = b[1:]
		}
	case "OwaId":
		b, err = base64.RawURLEncoding.DecodeString(id)
	default:
		return nil, false
	}
	if err != nil {
		return nil, false
	}
	if _, err := mbx.DecodeID(base64.StdEncoding.EncodeToString(b)); err != nil {
		return nil, false
	}
	return b, true
}

func validIDFormat(f string) bool {
	switch f {
	case "EwsLegacyId", "EwsId", "EntryId", "HexEntryId", "StoreId", "OwaId":
		return true
	}
	return false
}

// convertID implements ConvertId for t:AlternateId sources.
func (x *exchange) convertID() (*opResponse, *soapFault) {
	dest, ok := x.body.attr("DestinationFormat")
	if !ok {
		return nil, schemaFault(x.body, "The required attribute 'DestinationFormat' is missing.")
	}
	if !validIDFormat(dest) {
		return nil, schemaFault(x.body, "The 'DestinationFormat' attribute is invalid - The value '"+dest+"' is invalid according to its datatype 'IdFormatType'.")
	}
	srcs, f := x.folderList(x.body, "SourceIds")
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	for _, src := range srcs {
		if !src.is(nsTypes, "AlternateId") {
			resp.messages = append(resp.messages, responseMessage{code: ews.ErrorInvalidOperation, text: "scctest converts t:AlternateId only, not " + src.name.Local + "."})
			continue
		}
		format, ok1 := src.attr("Format")
		id, ok2 := src.attr("Id")
		mbx, ok3 := src.attr("Mailbox")
		if !ok1 || !ok2 || !ok3 {
			return nil, schemaFault(src, "The required attributes 'Format', 'Id' and 'Mailbox' must be present.")
		}
		if !validIDFormat(format) {
			return nil, schemaFault(src, "The 'Format' attribute is invalid - The value '"+format+"' is invalid according to its datatype 'IdFormatType'.")
		}
		// The Mailbox attribute is only format-checked: the id names its
		// mailbox, and the answer names that owner (convertIDOwner).
		if !validSMTP(mbx) {
			resp.messages = append(resp.messages, failure(ews.ErrorInvalidSmtpAddress))
			continue
		}
		raw, ok := decodeAltID(format, id)
		if !ok {
			resp.messages = append(resp.messages, failure(ews.ErrorInvalidIdMalformed))
			continue
		}
		owner := x.convertIDOwner(raw)
		if owner == "" {
			resp.messages = append(resp.messages, responseMessage{code: ews.ErrorInvalidIdMalformed, text: defaultMessage(ews.ErrorInvalidIdMalformed) + " (the id names no mailbox of this server)"})
			continue
		}
		out := encodeAltID(dest, raw)
		resp.messages = append(resp.messages, success(func(m *elem) {
			a := m.CreateElement("m:AlternateId")
			a.CreateAttr("xsi:type", "t:AlternateIdType")
			a.CreateAttr("Format", dest)
			a.CreateAttr("Id", out)
			a.CreateAttr("Mailbox", owner)
		}))
	}
	return resp, nil
}

// maxResolutions is how many candidates ResolveNames returns at most.
const maxResolutions = 100

// resolveNames implements ResolveNames against the directory.
func (x *exchange) resolveNames() (*opResponse, *soapFault) {
	full, ok := x.body.attr("ReturnFullContactData")
	if !ok {
		return nil, schemaFault(x.body, "The required attribute 'ReturnFullContactData' is missing.")
	}
	entry := x.body.child(nsMessages, "UnresolvedEntry")
	if entry == nil || entry.trimmed() == "" {
		return nil, schemaFault(x.body, "The element 'ResolveNames' has incomplete content. List of possible elements expected: 'UnresolvedEntry'.")
	}
	q := entry.trimmed()
	if len(q) > 5 && strings.EqualFold(q[:5], "smtp:") {
		q = q[5:]
	}
	ql := strings.ToLower(q)
	var found []*mailbox
	if mb := x.s.dir.lookupAddr(q); mb != nil {
		found = []*mailbox{mb}
	} else if mb := x.s.dir.lookupUPN(q); mb != nil {
		found = []*mailbox{mb}
	} else {
		for _, mb := range x.s.dir.mailboxes {
			if matchesName(mb, ql) {
				found = append(found, mb)
			}
		}
		sort.SliceStable(found, func(i, j int) bool { return found[i].info.DisplayName < found[j].info.DisplayName })
	}
	resp := &opResponse{op: x.op}
	if len(found) == 0 {
		resp.messages = append(resp.messages, failure(ews.ErrorNameResolutionNoResults))
		return resp, nil
	}
	total := len(found)
	found = found[:min(total, maxResolutions)]
	rm := success(func(m *elem) {
		rs := m.CreateElement("m:ResolutionSet")
		rs.CreateAttr("TotalItemsInView", itoa(total))
		rs.CreateAttr("IncludesLastItemInRange", boolStr(len(found) == total))
		for _, mb := range found {
			r := rs.CreateElement("t:Resolution")
			mm := r.CreateElement("t:Mailbox")
			mm.CreateElement("t:Name").SetText(mb.info.DisplayName)
			mm.CreateElement("t:EmailAddress").SetText(mb.info.PrimarySMTP)
			mm.CreateElement("t:RoutingType").SetText("SMTP")
			mm.CreateElement("t:MailboxType").SetText("Mailbox")
			if full == "true" || full == "1" {
				c := r.CreateElement("t:Contact")
				c.CreateElement("t:DisplayName").SetText(mb.info.DisplayName)
				ea := c.CreateElement("t:EmailAddresses")
				for i, a := range mb.addresses() {
					if i >= 3 {
						break
					}
					en := ea.CreateElement("t:Entry")
					en.CreateAttr("Key", "EmailAddress"+itoa(i+1))
					en.SetText("SMTP:" + a)
				}
				c.CreateElement("t:ContactSource").SetText("ActiveDirectory")
			}
		}
	})
	if len(found) > 1 {
		rm.code, rm.warning = ews.ErrorNameResolutionMultipleResults, true
	}
	resp.messages = append(resp.messages, rm)
	return resp, nil
}

// matchesName is ambiguous name resolution: a prefix of the display name (or
// of one of its words), of an address or of the alias.
func matchesName(mb *mailbox, q string) bool {
	dn := strings.ToLower(mb.info.DisplayName)
	if strings.HasPrefix(dn, q) {
		return true
	}
	for _, w := range strings.Fields(dn) {
		if strings.HasPrefix(w, q) {
			return true
		}
	}
	if strings.HasPrefix(strings.ToLower(mb.info.UPN), q) {
		return true
	}
	for _, a := range mb.addresses() {
		if strings.HasPrefix(strings.ToLower(a), q) {
			return true
		}
	}
	return false
}
