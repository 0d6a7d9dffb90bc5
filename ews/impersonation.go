package ews

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ConnectingSIDKind says how a [ConnectingSID] names the mailbox to
// impersonate: which child of t:ConnectingSID is sent.
type ConnectingSIDKind int

// The four kinds of t:ConnectingSID. The zero value is not a valid kind, so
// a zero ConnectingSID is rejected before anything is sent.
const (
	// KindPrimarySmtpAddress sends t:PrimarySmtpAddress: the mailbox's
	// primary SMTP address (proxy addresses are not accepted). Costs the
	// server a directory lookup.
	KindPrimarySmtpAddress ConnectingSIDKind = iota + 1
	// KindSmtpAddress sends t:SmtpAddress: any SMTP address of the
	// mailbox, as the EWS Managed API does for ConnectingIdType.SmtpAddress.
	KindSmtpAddress
	// KindPrincipalName sends t:PrincipalName: the user principal name
	// (UPN) of the account, in the user's own domain.
	KindPrincipalName
	// KindSID sends t:SID: the account's security identifier in SDDL form
	// (S-1-5-21-...).
	KindSID
)

// String returns the element name the kind is sent as, e.g.
// "PrimarySmtpAddress".
func (k ConnectingSIDKind) String() string {
	switch k {
	case KindPrimarySmtpAddress:
		return "PrimarySmtpAddress"
	case KindSmtpAddress:
		return "SmtpAddress"
	case KindPrincipalName:
		return "PrincipalName"
	case KindSID:
		return "SID"
	}
	return fmt.Sprintf("ConnectingSIDKind(%d)", int(k))
}

// ConnectingSID names the mailbox a request acts for with Exchange
// Impersonation (t:ExchangeImpersonation/t:ConnectingSID). Build one with
// [PrimarySmtpAddress], [SmtpAddress], [PrincipalName] or [SID] and pass it
// to [Impersonate]. Values are checked when a call uses them: an empty or
// malformed value fails the call with an error wrapping
// [ErrInvalidConnectingSID] before anything is sent.
type ConnectingSID struct {
	Kind  ConnectingSIDKind
	Value string
}

// PrimarySmtpAddress names the mailbox by its primary SMTP address.
func PrimarySmtpAddress(addr string) ConnectingSID {
	return ConnectingSID{Kind: KindPrimarySmtpAddress, Value: addr}
}

// SmtpAddress names the mailbox by one of its SMTP addresses.
func SmtpAddress(addr string) ConnectingSID {
	return ConnectingSID{Kind: KindSmtpAddress, Value: addr}
}

// PrincipalName names the account by its user principal name (UPN).
func PrincipalName(upn string) ConnectingSID {
	return ConnectingSID{Kind: KindPrincipalName, Value: upn}
}

// SID names the account by its security identifier, e.g.
// "S-1-5-21-1493619105-1843311271-3936346804-1118".
func SID(sid string) ConnectingSID {
	return ConnectingSID{Kind: KindSID, Value: sid}
}

// String returns "Kind:Value", e.g. "PrimarySmtpAddress:alice@contoso.com".
func (s ConnectingSID) String() string { return s.Kind.String() + ":" + s.Value }

// ErrInvalidConnectingSID is wrapped by the error a call returns when the
// mailbox to impersonate is empty or malformed. Nothing was sent.
var ErrInvalidConnectingSID = fmt.Errorf("%w: bad impersonation identifier", ErrInvalidRequest)

// Validate reports whether s can be sent: a known kind and a well-formed
// value (an addr-spec for the SMTP kinds and the UPN, an SDDL SID string for
// SID). The error wraps [ErrInvalidConnectingSID].
func (s ConnectingSID) Validate() error {
	var reason string
	switch s.Kind {
	case KindPrimarySmtpAddress, KindSmtpAddress:
		reason = checkAddress(s.Value, "an SMTP address like alice@contoso.com")
	case KindPrincipalName:
		reason = checkAddress(s.Value, "a user principal name like alice@contoso.com")
	case KindSID:
		reason = checkSID(s.Value)
	default:
		return fmt.Errorf("%w: kind %d is none of PrimarySmtpAddress, SmtpAddress, PrincipalName, SID; build it with ews.PrimarySmtpAddress and friends", ErrInvalidConnectingSID, int(s.Kind))
	}
	if reason != "" {
		return fmt.Errorf("%w: %s %q %s", ErrInvalidConnectingSID, s.Kind, clip(s.Value), reason)
	}
	return nil
}

// anchor returns the X-AnchorMailbox value implied by s: the address or UPN;
// empty for a SID, from which no address can be derived.
func (s ConnectingSID) anchor() string {
	if s.Kind == KindSID {
		return ""
	}
	return s.Value
}

// checkAddress returns "" when v looks like local@domain, or why not.
func checkAddress(v, want string) string {
	if v == "" {
		return "is empty; want " + want
	}
	if len(v) > 320 {
		return "is longer than 320 bytes"
	}
	if !utf8.ValidString(v) {
		return "is not valid UTF-8"
	}
	for _, r := range v {
		if unicode.IsSpace(r) || unicode.IsControl(r) || !xmlChar(r) || strings.ContainsRune(`<>()[],;:\"`, r) {
			return fmt.Sprintf("contains %q; want %s", r, want)
		}
	}
	at := strings.IndexByte(v, '@')
	if at < 0 || strings.LastIndexByte(v, '@') != at {
		return "must contain exactly one @; want " + want
	}
	local, domain := v[:at], v[at+1:]
	if local == "" || domain == "" {
		return "has an empty local part or domain; want " + want
	}
	if domain[0] == '.' || domain[len(domain)-1] == '.' || strings.Contains(domain, "..") {
		return "has a malformed domain; want " + want
	}
	return ""
}

// checkSID returns "" when v is an SDDL SID string (S-1-<authority>-<sub>...).
func checkSID(v string) string {
	const want = "; want an SDDL SID like S-1-5-21-1493619105-1843311271-3936346804-1118"
	if v == "" {
		return "is empty" + want
	}
	if len(v) > 200 {
		return "is too long" + want
	}
	if !(strings.HasPrefix(v, "S-1-") || strings.HasPrefix(v, "s-1-")) {
		return "does not start with S-1-" + want
	}
	parts := strings.Split(v[4:], "-")
	if len(parts) < 2 {
		return "has no sub-authority" + want
	}
	for _, p := range parts {
		if p == "" || len(p) > 20 {
			return "has an empty or oversized component" + want
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return "has a non-numeric component" + want
			}
		}
	}
	return ""
}

// clip shortens a user value for an error message.
func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	cut := 80
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
