package scctest

import "encoding/base64"

// convertIDOwner returns the primary SMTP address of the mailbox an id
// record (as decodeAltID returns it) belongs to, or "" when it names no
// mailbox of this server. ConvertId answers with the owner, as the
// AlternateId docs describe the attribute ("the mailbox primary SMTP
// address that contains the identifiers"), not with the address the
// client sent. Callers hold the server lock.
func (x *exchange) convertIDOwner(raw []byte) string {
	b, _, err := x.s.store.Resolve(base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		return ""
	}
	if mb := x.s.owner(b); mb != nil {
		return mb.info.PrimarySMTP
	}
	return ""
}
