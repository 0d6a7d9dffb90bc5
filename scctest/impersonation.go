package scctest

import (
	"strings"

	"github.com/sccsync/scc/ews"
)

const (
	msgHeaderForbidden = "ExchangeImpersonation SOAP header must not exist for this type of OAuth token."
	msgHeaderRequired  = "ExchangeImpersonation SOAP header must be present for this type of OAuth token."
	msgHeaderMalformed = "The ExchangeImpersonation SOAP header must name the user in exactly one non-empty PrincipalName, SID, PrimarySmtpAddress or SmtpAddress element."
	msgAnchorRequired  = "Requests with an app-only OAuth token and ExchangeImpersonation must send the X-AnchorMailbox HTTP header."
)

// impersonate applies the token rules and the ExchangeImpersonation header
// and sets the mailbox the request acts as.
func (x *exchange) impersonate() *soapFault {
	s, p := x.s, x.p
	imp := x.header.child(nsTypes, "ExchangeImpersonation")
	s.mu.RLock()
	defer s.mu.RUnlock()

	var all bool
	var scope map[string]bool
	switch {
	case p.tok != nil && p.tok.Kind == Delegated:
		if imp != nil {
			return newFault(ews.ErrorInvalidExchangeImpersonationHeaderData, msgHeaderForbidden)
		}
		mb := s.dir.lookupAddr(p.tok.User)
		if mb == nil {
			return newFault(ews.ErrorNonExistentMailbox, "", nameValue{"SmtpAddress", p.tok.User})
		}
		x.acting = mb
		return nil
	case p.tok != nil: // AppOnly
		if imp == nil {
			return newFault(ews.ErrorInvalidExchangeImpersonationHeaderData, msgHeaderRequired)
		}
		all, scope = len(p.tok.scope) == 0, p.tok.scope
	default:
		if imp == nil {
			x.acting = p.acc.mailbox // nil for service accounts
			return nil
		}
		all, scope = p.acc.grant.all, p.acc.scope
	}

	csid := imp.child(nsTypes, "ConnectingSID")
	if csid == nil || len(csid.kids) != 1 || csid.kids[0].name.Space != nsTypes {
		return newFault(ews.ErrorInvalidExchangeImpersonationHeaderData, msgHeaderMalformed)
	}
	id := csid.kids[0]
	value := id.trimmed()
	kind := ConnectingSIDKind(id.name.Local)
	switch kind {
	case ByPrimarySmtpAddress, BySmtpAddress, ByPrincipalName, BySID:
	default:
		return newFault(ews.ErrorInvalidExchangeImpersonationHeaderData, msgHeaderMalformed)
	}
	if value == "" {
		return newFault(ews.ErrorInvalidExchangeImpersonationHeaderData, msgHeaderMalformed)
	}
	x.rec.ConnectingSIDKind, x.rec.ConnectingSID = kind, value

	if !all && len(scope) == 0 {
		return newFault(ews.ErrorImpersonationDenied, "")
	}
	var mb *mailbox
	switch kind {
	case ByPrimarySmtpAddress, BySmtpAddress:
		if !strings.Contains(value, "@") {
			return newFault(ews.ErrorInvalidSmtpAddress, "")
		}
		mb = s.dir.lookupAddr(value)
		// t:PrimarySmtpAddress must be the primary address; a proxy
		// address does not name a mailbox there.
		if mb != nil && kind == ByPrimarySmtpAddress && !strings.EqualFold(mb.info.PrimarySMTP, value) {
			mb = nil
		}
		if mb == nil {
			return newFault(ews.ErrorNonExistentMailbox, "", nameValue{"SmtpAddress", value})
		}
	case ByPrincipalName:
		if !strings.Contains(value, "@") {
			return newFault(ews.ErrorInvalidUserPrincipalName, "")
		}
		mb = s.dir.lookupUPN(value)
		if mb == nil {
			return newFault(ews.ErrorNonExistentMailbox, "The user principal name has no mailbox associated with it.")
		}
	case BySID:
		if !validSID(value) {
			return newFault(ews.ErrorInvalidSid, "")
		}
		mb = s.dir.lookupSID(value)
		if mb == nil {
			return newFault(ews.ErrorNonExistentMailbox, "The SID has no mailbox associated with it.")
		}
	}
	if !all && !inScope(scope, mb) {
		return newFault(ews.ErrorImpersonateUserDenied, "")
	}
	if p.tok != nil && strings.TrimSpace(x.r.Header.Get("X-AnchorMailbox")) == "" {
		return newFault(ews.ErrorInvalidRequest, msgAnchorRequired)
	}
	x.acting = mb
	x.rec.Impersonated = mb.info.PrimarySMTP
	return nil
}
