package org

import (
	"fmt"
	"strings"
)

// AccessType is the Mailbox Access Type of an [EmailConfiguration].
type AccessType int

const (
	// Impersonation is "Microsoft Exchange Impersonation": one service
	// account (Account Logon + Password) holding the ApplicationImpersonation
	// role acts for every user. On-premises Exchange only since 2025.
	// It is the zero value, as it is the admin panel's default.
	Impersonation AccessType = iota
	// DirectLogon is "Microsoft Exchange Direct Logon": each user's own
	// credentials. Modelled, but not bulk-activated.
	DirectLogon
	// OnlineAppOnly is Exchange Online app-only OAuth: a Microsoft Entra app
	// (tenant, client id, client secret or certificate) with the
	// full_access_as_app permission, impersonating each mailbox with the
	// ExchangeImpersonation header.
	OnlineAppOnly
)

var accessTypeNames = [...]string{"Impersonation", "DirectLogon", "OnlineAppOnly"}

// String returns the JSON name: "Impersonation", "DirectLogon" or "OnlineAppOnly".
func (t AccessType) String() string { return enumString(accessTypeNames[:], int(t), "AccessType") }

// Title returns the name the admin panel shows.
func (t AccessType) Title() string {
	switch t {
	case Impersonation:
		return "Microsoft Exchange Impersonation"
	case DirectLogon:
		return "Microsoft Exchange Direct Logon"
	case OnlineAppOnly:
		return "Exchange Online app-only OAuth"
	}
	return t.String()
}

// MarshalText implements [encoding.TextMarshaler].
func (t AccessType) MarshalText() ([]byte, error) {
	return enumMarshal(accessTypeNames[:], int(t), "AccessType")
}

// UnmarshalText implements [encoding.TextUnmarshaler] (case-insensitive).
func (t *AccessType) UnmarshalText(b []byte) error {
	return enumUnmarshal(accessTypeNames[:], (*int)(t), b, "AccessType")
}

// AuthMethod is how the service account authenticates over HTTP.
type AuthMethod int

const (
	// AuthNegotiate lets the client pick what the server offers (NTLM when
	// offered, else Basic over HTTPS). The zero value.
	AuthNegotiate AuthMethod = iota
	// AuthNTLM forces NTLM.
	AuthNTLM
	// AuthBasic forces Basic (only over HTTPS, see [EmailConfiguration.Validate]).
	AuthBasic
)

var authMethodNames = [...]string{"Negotiate", "NTLM", "Basic"}

// String returns the JSON name: "Negotiate", "NTLM" or "Basic".
func (m AuthMethod) String() string { return enumString(authMethodNames[:], int(m), "AuthMethod") }

// MarshalText implements [encoding.TextMarshaler].
func (m AuthMethod) MarshalText() ([]byte, error) {
	return enumMarshal(authMethodNames[:], int(m), "AuthMethod")
}

// UnmarshalText implements [encoding.TextUnmarshaler] (case-insensitive).
func (m *AuthMethod) UnmarshalText(b []byte) error {
	return enumUnmarshal(authMethodNames[:], (*int)(m), b, "AuthMethod")
}

// IdentityKind says which of a user's identities goes into the
// ExchangeImpersonation header's ConnectingSID element.
type IdentityKind int

const (
	// IdentityAuto picks the cheapest identity known: SID, then UPN, then
	// primary SMTP address (Microsoft notes SID and UPN save the server a
	// directory lookup). The zero value.
	IdentityAuto IdentityKind = iota
	// IdentityPrimarySMTP sends t:PrimarySmtpAddress.
	IdentityPrimarySMTP
	// IdentityUPN sends t:PrincipalName.
	IdentityUPN
	// IdentitySID sends t:SID.
	IdentitySID
	// IdentitySMTP sends t:SmtpAddress (what the EWS Managed API sends for
	// ConnectingIdType.SmtpAddress), with the primary address as value.
	IdentitySMTP
)

var identityKindNames = [...]string{"Auto", "PrimarySMTP", "UPN", "SID", "SMTP"}

// String returns the JSON name: "Auto", "PrimarySMTP", "UPN", "SID" or "SMTP".
func (k IdentityKind) String() string {
	return enumString(identityKindNames[:], int(k), "IdentityKind")
}

// MarshalText implements [encoding.TextMarshaler].
func (k IdentityKind) MarshalText() ([]byte, error) {
	return enumMarshal(identityKindNames[:], int(k), "IdentityKind")
}

// UnmarshalText implements [encoding.TextUnmarshaler] (case-insensitive).
func (k *IdentityKind) UnmarshalText(b []byte) error {
	return enumUnmarshal(identityKindNames[:], (*int)(k), b, "IdentityKind")
}

// SyncStatus is where a user's mailbox sync stands.
type SyncStatus int

const (
	// NotActivated: never activated (the zero value).
	NotActivated SyncStatus = iota
	// Active: the last check passed and sync is on.
	Active
	// Failed: the last check failed; [SyncState] holds the EWS code and message.
	Failed
	// NeedsRenewal: was active, but the email configuration changed since
	// (its fingerprint differs) or a renewal was requested. [MemoryStore] and
	// [FileStore] set it on every save that changes the configuration an
	// Active user was checked against; impersonation.Renew re-checks these
	// users.
	NeedsRenewal
	// Deactivated: sync was stopped (impersonation.Deactivate);
	// [SyncState] holds when, and what of the provisioning is left.
	// impersonation.Activate activates the user again; Renew leaves it
	// alone.
	Deactivated
)

var syncStatusNames = [...]string{"NotActivated", "Active", "Failed", "NeedsRenewal", "Deactivated"}

// String returns the JSON name: "NotActivated", "Active", "Failed",
// "NeedsRenewal" or "Deactivated".
func (s SyncStatus) String() string { return enumString(syncStatusNames[:], int(s), "SyncStatus") }

// MarshalText implements [encoding.TextMarshaler].
func (s SyncStatus) MarshalText() ([]byte, error) {
	return enumMarshal(syncStatusNames[:], int(s), "SyncStatus")
}

// UnmarshalText implements [encoding.TextUnmarshaler] (case-insensitive).
func (s *SyncStatus) UnmarshalText(b []byte) error {
	return enumUnmarshal(syncStatusNames[:], (*int)(s), b, "SyncStatus")
}

func enumString(names []string, v int, typ string) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

func enumMarshal(names []string, v int, typ string) ([]byte, error) {
	if v >= 0 && v < len(names) {
		return []byte(names[v]), nil
	}
	return nil, fmt.Errorf("org: invalid %s value %d", typ, v)
}

func enumUnmarshal(names []string, v *int, b []byte, typ string) error {
	s := strings.TrimSpace(string(b))
	for i, n := range names {
		if strings.EqualFold(s, n) {
			*v = i
			return nil
		}
	}
	return fmt.Errorf("org: unknown %s %q; use one of %s", typ, s, strings.Join(names, ", "))
}
