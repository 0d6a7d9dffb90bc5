package org

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// Organization is a set of user mailboxes whose sync is turned on through one
// [EmailConfiguration]. Stores set ID (when empty), Version and the
// timestamps; see [Store].
type Organization struct {
	// ID identifies the organization in a [Store]: 1 to 128 characters from
	// A-Z a-z 0-9 . _ - , not starting with a dot. Create fills it when empty.
	ID string `json:"id"`
	// Name is what the admin calls the organization.
	Name string `json:"name"`
	// Domains are the organization's mail domains (accepted domains), as the
	// admin typed them; internationalised domains may be in Unicode form.
	Domains []string `json:"domains,omitempty"`
	// Users are the mailboxes to sync, in the admin's order.
	Users []User `json:"users,omitempty"`
	// Email is the mailbox access configuration.
	Email EmailConfiguration `json:"email"`
	// Provisioning is what activation adds to every mailbox (folders,
	// categories); nil provisions nothing. See [ProvisioningPlan].
	Provisioning *ProvisioningPlan `json:"provisioning,omitempty"`
	// Version is the optimistic-concurrency version: 1 after Create,
	// incremented by every successful Update.
	Version int64 `json:"version"`
	// CreatedAt and UpdatedAt are set by the store (UTC).
	CreatedAt time.Time `json:"createdAt,omitzero"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// User is one mailbox of an organization.
type User struct {
	// PrimarySMTP is the primary SMTP address (required). It is also the
	// X-AnchorMailbox value for impersonated requests.
	PrimarySMTP string `json:"primarySmtpAddress"`
	// UPN is the user principal name, e.g. anna@corp.contoso.com.
	UPN string `json:"userPrincipalName,omitempty"`
	// SID is the account's security identifier, S-1-5-21-....
	SID string `json:"sid,omitempty"`
	// DisplayName is the name shown in address lists.
	DisplayName string `json:"displayName,omitempty"`
	// ImpersonateBy chooses the identity sent in the ExchangeImpersonation
	// header; see [User.ImpersonationIdentity].
	ImpersonateBy IdentityKind `json:"impersonateBy"`
	// Sync is the user's sync state.
	Sync SyncState `json:"sync"`
}

// SyncState records the outcome of the last activation or check of a user.
type SyncState struct {
	Status SyncStatus `json:"status"`
	// Code is the EWS response code of the last failure (for example
	// "ErrorImpersonateUserDenied"), or a short code of the checker's own.
	Code string `json:"code,omitempty"`
	// Message is the server's message or the checker's explanation.
	Message string `json:"message,omitempty"`
	// Remediation is what the admin does about a failed provisioning of
	// the mailbox (empty otherwise).
	Remediation string `json:"remediation,omitempty"`
	// ActivatedAt is when sync last became active.
	ActivatedAt time.Time `json:"activatedAt,omitzero"`
	// CheckedAt is when access was last checked.
	CheckedAt time.Time `json:"checkedAt,omitzero"`
	// DeactivatedAt is when sync was last stopped ([Deactivated]).
	DeactivatedAt time.Time `json:"deactivatedAt,omitzero"`
	// ConfigFingerprint is the [ConfigFingerprint] (in the user's store) of
	// the configuration the user was last checked against.
	ConfigFingerprint string `json:"configFingerprint,omitempty"`
	// Folders are the ids of the folders provisioned in the mailbox, by
	// the Key of their [PlannedFolder]. A deactivation that removes the
	// provisioning drops the ids of the folders it removed (or found
	// gone) and keeps the others, so the record lists every folder of
	// ours that may still be there.
	Folders map[string]string `json:"folders,omitempty"`
	// ParentFolders are the ids of the distinguished folders the plan's
	// folders sit in ("contacts", "msgfolderroot", …), by name, as the
	// last provisioning read or confirmed them. The verification compares
	// each recorded folder's parent with them instead of reading the
	// parents again; an id that a folder no longer matches is dropped, so
	// that the next run reads it anew.
	ParentFolders map[string]string `json:"parentFolders,omitempty"`
	// Categories are the names of the plan's categories the mailbox's
	// master category list was last found or made to hold.
	Categories []string `json:"categories,omitempty"`
	// ProvisionedAt is when the mailbox was last provisioned or verified.
	ProvisionedAt time.Time `json:"provisionedAt,omitzero"`
	// SyncStates are the EWS sync states (SyncFolderItems) of the mailbox's
	// synced folders, by the Key of their [PlannedFolder] or by
	// distinguished folder name ("inbox"): the baseline activation took,
	// advanced by the change watcher as it hands out changes. They are
	// opaque server data, not secrets.
	SyncStates map[string]string `json:"syncStates,omitempty"`
	// Watch is the change watcher's last position in the mailbox's
	// notifications; nil when no watcher has run for the mailbox.
	Watch *WatchPosition `json:"watch,omitempty"`
}

// WatchPosition is where the change watcher stands in one mailbox's
// notifications, so that a restarted watcher resumes from it.
type WatchPosition struct {
	// SubscriptionID is the EWS subscription the watcher holds for the
	// mailbox.
	SubscriptionID string `json:"subscriptionId,omitempty"`
	// Watermark is the watermark of the last event handed to the caller.
	Watermark string `json:"watermark,omitempty"`
	// UpdatedAt is when the position was last saved.
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// EmailConfiguration is the organization's Email Configuration: how the
// service reaches the users' mailboxes.
//
// Exchange Online notes (2025–2027): Microsoft retired the
// ApplicationImpersonation role in Exchange Online in 2025, so password-based
// [Impersonation] cannot work there; use [OnlineAppOnly] (an Entra app with
// full_access_as_app, sending the ExchangeImpersonation header). EWS itself is
// blocked by default in Exchange Online from October 2026 unless the tenant
// allow-lists the app, and is switched off in April 2027. On-premises Exchange
// is unaffected.
type EmailConfiguration struct {
	// AccessType is the Mailbox Access Type.
	AccessType AccessType `json:"accessType"`
	// AccountLogon is the service account, as DOMAIN\user or user@domain
	// (Impersonation). Not used by OnlineAppOnly.
	AccountLogon string `json:"accountLogon,omitempty"`
	// Password is the service account's password (Impersonation).
	Password Secret `json:"password,omitzero"`
	// EWSURL is the endpoint, https://host/EWS/Exchange.asmx. It may be
	// empty when DiscoverEWSURL is set, until discovery fills it in.
	EWSURL string `json:"ewsUrl,omitempty"`
	// DiscoverEWSURL asks for the EWS URL to be found with Autodiscover
	// (impersonation.DiscoverEWSURL) instead of typed in. Validation then
	// accepts an empty EWSURL; a URL that is set is checked as usual.
	DiscoverEWSURL bool `json:"discoverEwsUrl,omitempty"`
	// AuthMethod is how the service account authenticates (Impersonation,
	// DirectLogon).
	AuthMethod AuthMethod `json:"authMethod"`
	// ExchangeVersion is the RequestServerVersion to send, e.g.
	// "Exchange2013_SP1"; empty lets the client choose.
	ExchangeVersion string `json:"exchangeVersion,omitempty"`
	// AllowInsecureHTTP permits an http:// EWS URL (lab servers only: the
	// password then crosses the network readable to anyone on the path).
	AllowInsecureHTTP bool `json:"allowInsecureHttp,omitempty"`

	// TenantID is the Microsoft Entra tenant (GUID or
	// contoso.onmicrosoft.com) for OnlineAppOnly.
	TenantID string `json:"tenantId,omitempty"`
	// ClientID is the app registration's application (client) id.
	ClientID string `json:"clientId,omitempty"`
	// ClientSecret is the app's client secret; or use a certificate.
	ClientSecret Secret `json:"clientSecret,omitzero"`
	// CertificatePEM is the app's certificate (public, PEM), used with PrivateKey.
	CertificatePEM string `json:"certificatePem,omitempty"`
	// PrivateKey is the certificate's private key, PEM (PKCS#8, PKCS#1 or SEC 1).
	PrivateKey Secret `json:"privateKey,omitzero"`
}

// Identity is who to impersonate: the ConnectingSID child element and its value.
type Identity struct {
	Kind  IdentityKind // never IdentityAuto
	Value string
}

// ImpersonationIdentity returns the identity to put in the
// ExchangeImpersonation header for u. The configured kind is used when its
// value is known; otherwise (and for [IdentityAuto]) the cheapest known
// identity is used: SID, then UPN, then the primary SMTP address. The result
// has an empty Value only when u has no identity at all.
func (u User) ImpersonationIdentity() Identity {
	sid, upn, smtp := strings.TrimSpace(u.SID), strings.TrimSpace(u.UPN), strings.TrimSpace(u.PrimarySMTP)
	switch u.ImpersonateBy {
	case IdentityPrimarySMTP:
		if smtp != "" {
			return Identity{IdentityPrimarySMTP, smtp}
		}
	case IdentitySMTP:
		if smtp != "" {
			return Identity{IdentitySMTP, smtp}
		}
	case IdentityUPN:
		if upn != "" {
			return Identity{IdentityUPN, upn}
		}
	case IdentitySID:
		if sid != "" {
			return Identity{IdentitySID, sid}
		}
	}
	switch {
	case sid != "":
		return Identity{IdentitySID, sid}
	case upn != "":
		return Identity{IdentityUPN, upn}
	default:
		return Identity{IdentityPrimarySMTP, smtp}
	}
}

// Clone returns a deep copy of o (nil for nil).
func (o *Organization) Clone() *Organization {
	if o == nil {
		return nil
	}
	c := *o
	c.Domains = slices.Clone(o.Domains)
	c.Users = slices.Clone(o.Users)
	for i := range c.Users {
		cloneSync(&c.Users[i].Sync)
	}
	c.Provisioning = o.Provisioning.Clone()
	return &c
}

// UserByAddress returns the index of the user whose primary SMTP address
// matches addr (case-insensitive, internationalised domains normalised), or -1
// (also for a nil o).
func (o *Organization) UserByAddress(addr string) int {
	if o == nil {
		return -1
	}
	key := AddressKey(addr)
	for i := range o.Users {
		if AddressKey(o.Users[i].PrimarySMTP) == key {
			return i
		}
	}
	return -1
}

// exchangeOnlineHosts are the EWS hosts of Exchange Online, including the
// sovereign clouds.
var exchangeOnlineHosts = []string{
	"outlook.office365.com",
	"outlook.office.com",
	"outlook.office365.us",     // GCC High
	"webmail.apps.mil",         // DoD
	"partner.outlook.cn",       // operated by 21Vianet
	"outlook.microsoft365.com", // newer alias
}

// IsExchangeOnline reports whether rawURL (an EWS URL or bare host name)
// points at Exchange Online: outlook.office365.com, outlook.office.com, any
// *.outlook.com host, or a sovereign-cloud equivalent.
func IsExchangeOnline(rawURL string) bool {
	host := strings.TrimSpace(rawURL)
	if strings.Contains(host, "://") {
		u, err := url.Parse(host)
		if err != nil {
			return false
		}
		host = u.Hostname()
	} else if h, _, ok := strings.Cut(host, "/"); ok {
		host = h
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "outlook.com" || strings.HasSuffix(host, ".outlook.com") {
		return true
	}
	return slices.Contains(exchangeOnlineHosts, host)
}
