package org

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sccsync/scc/internal/mailaddr"
)

// Field names as the admin panel shows them; [FieldError.Field] uses these
// (users are "Users row N", counting from 1).
const (
	FieldName            = "Organization Name"
	FieldID              = "Organization ID"
	FieldDomains         = "Domains"
	FieldAccessType      = "Mailbox Access Type"
	FieldAccountLogon    = "Account Logon"
	FieldPassword        = "Password"
	FieldEWSURL          = "EWS URL"
	FieldAuthMethod      = "Authentication Method"
	FieldExchangeVersion = "Exchange Version"
	FieldTenantID        = "Tenant ID"
	FieldClientID        = "Client ID"
	FieldClientSecret    = "Client Secret"
	FieldCertificate     = "Certificate"
	FieldPrivateKey      = "Private Key"
	FieldUsers           = "Users"
)

// Sentinels wrapped by [FieldError.Err] for problems callers act on in code.
var (
	// ErrImpersonationRetired: password-based Exchange Impersonation pointed
	// at Exchange Online, where Microsoft retired the ApplicationImpersonation
	// role in 2025. Use [OnlineAppOnly].
	ErrImpersonationRetired = errors.New("org: Exchange Impersonation with a password is retired in Exchange Online")
	// ErrBasicAuthRetired: user credentials (Basic/NTLM) pointed at Exchange
	// Online, which turned that off for EWS in 2022.
	ErrBasicAuthRetired = errors.New("org: password logons to EWS are turned off in Exchange Online")
	// ErrDuplicate: an address, UPN, SID or domain listed twice.
	ErrDuplicate = errors.New("org: listed twice")
)

// FieldError is one problem found by Validate (or one warning), naming the
// field as the admin sees it, what is wrong and what to do.
type FieldError struct {
	Field   string // "EWS URL", "Users row 12", ...
	Problem string // what is wrong
	Fix     string // what to do
	Err     error  // optional sentinel such as ErrImpersonationRetired or ErrBadAddress
}

// Error returns "Field: Problem Fix".
func (e FieldError) Error() string {
	s := e.Field + ": " + e.Problem
	if e.Fix != "" {
		s += " " + e.Fix
	}
	return s
}

// Unwrap returns the sentinel, if any.
func (e FieldError) Unwrap() error { return e.Err }

// ValidationErrors lists every problem Validate found, in form order. Use
// errors.As to get it from the error Validate returns; errors.Is and
// errors.As also reach each [FieldError] and its sentinel.
type ValidationErrors []FieldError

// Error lists every problem on one line.
func (v ValidationErrors) Error() string {
	var b strings.Builder
	if len(v) == 1 {
		b.WriteString("org: 1 problem: ")
	} else {
		fmt.Fprintf(&b, "org: %d problems: ", len(v))
	}
	seen := map[string]bool{}
	for i, e := range v {
		if i > 0 {
			b.WriteString("; ")
		}
		// A fix already given for the field is not repeated.
		b.WriteString(e.Field + ": " + e.Problem)
		if e.Fix != "" && !seen[e.Field+"\x00"+e.Fix] {
			seen[e.Field+"\x00"+e.Fix] = true
			b.WriteString(" " + e.Fix)
		}
	}
	return b.String()
}

// Fixes returns what to do, once per field and fix, in order, as
// "Field: Fix": the remediation to show for the whole list, without the
// repeats that several problems of one field with the same fix would give.
func (v ValidationErrors) Fixes() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range v {
		if e.Fix == "" || seen[e.Field+"\x00"+e.Fix] {
			continue
		}
		seen[e.Field+"\x00"+e.Fix] = true
		out = append(out, e.Field+": "+e.Fix)
	}
	return out
}

// Unwrap returns each FieldError, for errors.Is and errors.As.
func (v ValidationErrors) Unwrap() []error {
	errs := make([]error, len(v))
	for i, e := range v {
		errs[i] = e
	}
	return errs
}

// Fields returns the distinct field names with problems, in order.
func (v ValidationErrors) Fields() []string {
	var out []string
	for _, e := range v {
		if !slices.Contains(out, e.Field) {
			out = append(out, e.Field)
		}
	}
	return out
}

// checker collects problems and warnings in one pass.
type checker struct {
	errs     ValidationErrors
	warnings []FieldError
	now      time.Time
}

func (c *checker) fail(field, problem, fix string, err error) {
	c.errs = append(c.errs, FieldError{field, problem, fix, err})
}

func (c *checker) warn(field, problem, fix string) {
	c.warnings = append(c.warnings, FieldError{Field: field, Problem: problem, Fix: fix})
}

func (c *checker) result() error {
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}

// Validate checks the organization as the admin panel does on Save and
// returns nil or a [ValidationErrors] listing every problem: name, domains,
// the email configuration (see [EmailConfiguration.Validate]) and every user
// row (malformed or duplicate addresses, UPNs and SIDs; addresses compare
// case-insensitively with internationalised domains normalised).
//
// Users whose address is outside [Organization.Domains] are a warning, not an
// error (see [Organization.Warnings]): Exchange may accept more domains than
// the admin listed, and the check against the server is the real test.
//
// A nil o is an error, not a panic.
func (o *Organization) Validate() error {
	if o == nil {
		return errors.New("org: Validate: organization is nil")
	}
	c := o.check()
	return c.result()
}

// Warnings returns advice that does not block saving: users outside the
// organization's domains, an identity preference that falls back, app-only
// OAuth against a host that is not Exchange Online, the Exchange Online EWS
// retirement timeline, a certificate about to expire, an empty user list.
// A nil o has none.
func (o *Organization) Warnings() []FieldError {
	if o == nil {
		return nil
	}
	return o.check().warnings
}

func (o *Organization) check() *checker {
	c := &checker{now: time.Now()}
	if strings.TrimSpace(o.Name) == "" {
		c.fail(FieldName, "is empty.", "Enter the organization's name.", nil)
	}
	if o.ID != "" {
		if err := checkID(o.ID); err != nil {
			c.fail(FieldID, err.Error(), "", nil)
		}
	}
	domains := make(map[string]int, len(o.Domains))
	for i, d := range o.Domains {
		ascii, err := NormalizeDomain(d)
		if err != nil {
			c.fail(FieldDomains, fmt.Sprintf("%q is not a valid mail domain.", d), "Enter a domain such as contoso.com.", nil)
			continue
		}
		if j, dup := domains[ascii]; dup {
			c.fail(FieldDomains, fmt.Sprintf("%q is listed twice (also entry %d).", d, j+1), "Remove one of them.", ErrDuplicate)
			continue
		}
		domains[ascii] = i
	}
	o.Email.check(c)
	o.Provisioning.check(c)
	checkUsers(c, o.Users, domains)
	return c
}

// Validate checks the configuration alone; see [Organization.Validate].
//
// Impersonation needs Account Logon (DOMAIN\user or user@domain), Password
// and an EWS URL, and cannot target Exchange Online (ApplicationImpersonation
// was retired there in 2025; the error wraps [ErrImpersonationRetired] and
// points to app-only OAuth). OnlineAppOnly needs Tenant ID, Client ID and a
// client secret or a certificate with its private key. The EWS URL must look
// like https://host/EWS/Exchange.asmx (path case-insensitive); http:// is
// accepted only with AllowInsecureHTTP, and never with Basic.
func (c EmailConfiguration) Validate() error {
	ch := &checker{now: time.Now()}
	c.check(ch)
	return ch.result()
}

// Warnings returns the configuration's advice; see [Organization.Warnings].
func (c EmailConfiguration) Warnings() []FieldError {
	ch := &checker{now: time.Now()}
	c.check(ch)
	return ch.warnings
}

// ValidateUsers checks a user list on its own (addresses, UPNs, SIDs,
// duplicates), naming rows "Users row N" as [Organization.Validate] does.
func ValidateUsers(users []User) error {
	c := &checker{now: time.Now()}
	checkUsers(c, users, nil)
	return c.result()
}

const exchangeOnlineEWSURL = "https://outlook.office365.com/EWS/Exchange.asmx"

func (c EmailConfiguration) check(ch *checker) {
	online := false
	if c.AccessType < Impersonation || c.AccessType > OnlineAppOnly {
		ch.fail(FieldAccessType, fmt.Sprintf("has the unknown value %d.", int(c.AccessType)),
			"Choose Microsoft Exchange Impersonation, Microsoft Exchange Direct Logon or Exchange Online app-only OAuth.", nil)
	}
	if c.AuthMethod < AuthNegotiate || c.AuthMethod > AuthBasic {
		ch.fail(FieldAuthMethod, fmt.Sprintf("has the unknown value %d.", int(c.AuthMethod)), "Choose NTLM, Basic or Negotiate automatically.", nil)
	}
	if u, ok := c.checkEWSURL(ch); ok {
		online = IsExchangeOnline(u.Host)
	}
	checkExchangeVersion(ch, c.ExchangeVersion)

	switch c.AccessType {
	case Impersonation:
		if strings.TrimSpace(c.AccountLogon) == "" {
			ch.fail(FieldAccountLogon, "is empty.", `Enter the service account as DOMAIN\user or user@domain.`, nil)
		} else {
			checkAccountLogon(ch, c.AccountLogon)
		}
		switch {
		case c.Password.IsZero():
			ch.fail(FieldPassword, "is empty.", "Enter the service account's password.", nil)
		case blankSecret(c.Password):
			ch.fail(FieldPassword, "contains only spaces.", "Enter the service account's password.", nil)
		default:
			checkPasswordSpaces(ch, c.Password)
		}
		if online {
			ch.fail(FieldAccessType,
				"Microsoft Exchange Impersonation with a service account password cannot be used with Exchange Online: Microsoft retired the ApplicationImpersonation role there in 2025.",
				"Choose Exchange Online app-only OAuth: register an app in Microsoft Entra, grant it the full_access_as_app application permission (Office 365 Exchange Online) with admin consent, and enter its Tenant ID, Client ID and a client secret or certificate; each mailbox is still named in the ExchangeImpersonation header.",
				ErrImpersonationRetired)
		}
	case DirectLogon:
		if strings.TrimSpace(c.AccountLogon) != "" {
			checkAccountLogon(ch, c.AccountLogon)
		}
		if online {
			ch.fail(FieldAccessType,
				"Microsoft Exchange Direct Logon with user passwords cannot be used with Exchange Online: Basic authentication for EWS was turned off there in 2022.",
				"Choose Exchange Online app-only OAuth (an Entra app with the full_access_as_app permission and its Tenant ID, Client ID and secret or certificate).",
				ErrBasicAuthRetired)
		}
	case OnlineAppOnly:
		c.checkAppOnly(ch)
		if strings.TrimSpace(c.EWSURL) != "" && !online {
			ch.warn(FieldEWSURL, "does not point at Exchange Online, and app-only OAuth for EWS exists only in Exchange Online.",
				"Use "+exchangeOnlineEWSURL+" unless your tenant is in a sovereign cloud.")
		}
	}
	if online {
		ch.warn(FieldEWSURL,
			"points at Exchange Online, where EWS is blocked by default from October 2026 unless the tenant allow-lists the app, and is switched off in April 2027.",
			"Make sure the tenant allows this app to use EWS, and plan the move to Microsoft Graph.")
	}
}

func (c EmailConfiguration) checkEWSURL(ch *checker) (*url.URL, bool) {
	raw := strings.TrimSpace(c.EWSURL)
	fix := "Enter the address of the EWS endpoint, such as https://mail.contoso.com/EWS/Exchange.asmx."
	if c.AccessType == OnlineAppOnly {
		fix = "Enter " + exchangeOnlineEWSURL + "."
	}
	if raw == "" {
		if c.DiscoverEWSURL {
			return nil, false // to be found with Autodiscover
		}
		ch.fail(FieldEWSURL, "is empty.", fix+" Or let Autodiscover find it (Discover EWS URL).", nil)
		return nil, false
	}
	if !strings.Contains(raw, "://") {
		// A bare server name (mail.contoso.com) or something else: say
		// what a full EWS URL looks like, built from the server name when
		// there is one.
		host, _, _ := strings.Cut(raw, "/")
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !strings.ContainsAny(raw, " @?#") && (strings.Contains(host, ".") || net.ParseIP(host) != nil) && validHost(host) {
			full := "https://" + strings.SplitN(raw, "/", 2)[0] + "/EWS/Exchange.asmx"
			if c.AccessType == OnlineAppOnly {
				full = exchangeOnlineEWSURL
			}
			ch.fail(FieldEWSURL, fmt.Sprintf("%s is a server name, not the URL of the EWS endpoint: it needs https:// and the /EWS/Exchange.asmx path.", quoteInput(raw)),
				"Enter "+full+".", nil)
			return nil, false
		}
		if strings.Contains(raw, "@") {
			// Do not echo what may be user:password@host.
			ch.fail(FieldEWSURL, "is not a URL.", fix, nil)
		} else {
			ch.fail(FieldEWSURL, fmt.Sprintf("%s is not a URL.", quoteInput(cutQuery(raw))), fix, nil)
		}
		return nil, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		// Do not echo the input: it may hold a password (https://user:pw@host/).
		ch.fail(FieldEWSURL, "is not a valid URL.", fix, nil)
		return nil, false
	}
	// Show the URL as typed but without its query and fragment, which may
	// hold credentials (…?password=…, #access_token=…), and without the
	// password of a user:password@ part.
	shown := clipInput(shownURL(raw, u))
	if u.User != nil {
		ch.fail(FieldEWSURL, fmt.Sprintf("%q contains a user name or password.", shown),
			"Remove it from the URL; enter the account in Account Logon and Password.", nil)
	}
	ok := true
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !c.AllowInsecureHTTP {
			ch.fail(FieldEWSURL, fmt.Sprintf("%q uses plain http, which sends credentials and mail unencrypted.", shown),
				"Use https://, or allow insecure HTTP explicitly for a lab server.", nil)
		} else if c.AuthMethod == AuthBasic && c.AccessType != OnlineAppOnly {
			ch.fail(FieldAuthMethod, "is Basic over plain http, which sends the password readable to anyone on the network.",
				"Use https://, or choose NTLM.", nil)
		}
	default:
		ch.fail(FieldEWSURL, fmt.Sprintf("%q does not start with https://.", shown), fix, nil)
		ok = false
	}
	host := u.Hostname()
	if host == "" {
		ch.fail(FieldEWSURL, fmt.Sprintf("%q has no server name.", shown), fix, nil)
		return nil, false
	}
	if !validHost(host) {
		ch.fail(FieldEWSURL, fmt.Sprintf("%q: %q is not a valid server name.", shown, host), fix, nil)
		ok = false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			ch.fail(FieldEWSURL, fmt.Sprintf("%q has an invalid port.", shown), fix, nil)
			ok = false
		}
	}
	if !strings.EqualFold(u.Path, "/EWS/Exchange.asmx") {
		want := "/EWS/Exchange.asmx"
		problem := fmt.Sprintf("%q does not end in /EWS/Exchange.asmx.", shown)
		if strings.Contains(strings.ToLower(u.Path), "autodiscover") {
			problem = fmt.Sprintf("%q is the Autodiscover endpoint, not EWS.", shown)
		}
		ch.fail(FieldEWSURL, problem, fmt.Sprintf("Use %s://%s%s.", strings.ToLower(u.Scheme), u.Host, want), nil)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		ch.fail(FieldEWSURL, fmt.Sprintf("%q is followed by a query or fragment (after ? or #).", shown), "Remove it.", nil)
	}
	return u, ok
}

// shownURL is raw as typed, cut before its query or fragment, with the
// password of a user:password@ part replaced by [Redacted].
func shownURL(raw string, u *url.URL) string {
	shown := cutQuery(raw)
	if u.User == nil {
		return shown
	}
	scheme, rest, _ := strings.Cut(shown, "://")
	authority, path, _ := strings.Cut(rest, "/")
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return scheme + "://" + Redacted
	}
	userinfo, host := authority[:at], authority[at+1:]
	if name, _, hasPw := strings.Cut(userinfo, ":"); hasPw {
		userinfo = name + ":" + Redacted
	}
	shown = scheme + "://" + userinfo + "@" + host
	if path != "" || strings.Contains(rest, "/") {
		shown += "/" + path
	}
	return shown
}

// cutQuery returns raw up to its first '?' or '#'.
func cutQuery(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i]
	}
	return raw
}

// clipInput shortens what the admin typed for a message.
func clipInput(s string) string { return clip(s) }

// quoteInput quotes what the admin typed, clipped, for a message.
func quoteInput(s string) string { return strconv.Quote(clip(s)) }

// validHost accepts IP addresses, single-label intranet names and domain
// names, including internationalised ones.
func validHost(host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	return mailaddr.ValidHost(host)
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkAccountLogon accepts DOMAIN\user and user@domain.
func checkAccountLogon(ch *checker, logon string) {
	fix := `Enter the service account as DOMAIN\user (for example CONTOSO\svc-sync) or user@domain (for example svc-sync@contoso.com).`
	if logon != strings.TrimSpace(logon) {
		ch.fail(FieldAccountLogon, "starts or ends with a space.", "Remove the spaces.", nil)
		logon = strings.TrimSpace(logon)
	}
	if domain, user, ok := strings.Cut(logon, `\`); ok {
		switch {
		case strings.Contains(user, `\`):
			ch.fail(FieldAccountLogon, fmt.Sprintf("%q has more than one backslash.", logon), fix, nil)
		case domain == "" || user == "":
			ch.fail(FieldAccountLogon, fmt.Sprintf("%q is missing the domain or the user name.", logon), fix, nil)
		case !validNetBIOSDomain(domain):
			ch.fail(FieldAccountLogon, fmt.Sprintf("%q: %q is not a valid domain name.", logon, domain), fix, nil)
		case !validSAMAccountName(user):
			ch.fail(FieldAccountLogon, fmt.Sprintf("%q: %q is not a valid user name.", logon, user), fix, nil)
		}
		return
	}
	if strings.Contains(logon, "@") {
		if _, err := ParseEmailAddress(logon); err != nil {
			ch.fail(FieldAccountLogon, fmt.Sprintf("%q is not a valid user@domain name: %s.", logon, reason(err)), fix, nil)
		}
		return
	}
	ch.fail(FieldAccountLogon, fmt.Sprintf("%q has neither a domain nor an @.", logon), fix, nil)
}

// validNetBIOSDomain accepts a NetBIOS domain (up to 15 characters) or a DNS domain.
func validNetBIOSDomain(d string) bool {
	if strings.Contains(d, ".") {
		_, err := NormalizeDomain(d)
		return err == nil
	}
	return len(d) <= 15 && !strings.ContainsAny(d, `\/:*?"<>| ,~!@#$%^&'(){}`) && strings.Trim(d, " ") != ""
}

// validSAMAccountName rejects the characters Active Directory forbids in
// logon names.
func validSAMAccountName(u string) bool {
	return strings.Trim(u, ". ") != "" && !strings.ContainsAny(u, `"/\[]:;|=,+*?<>@`) && !hasControl(u)
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// blankSecret reports whether s is set but holds only white space, which no
// server accepts as a password or client secret: it is a paste or typing
// mistake to report like a missing value.
func blankSecret(s Secret) bool { return !s.IsZero() && strings.TrimSpace(s.Reveal()) == "" }

func checkPasswordSpaces(ch *checker, s Secret) {
	v := s.Reveal()
	if v != strings.TrimSpace(v) {
		ch.warn(FieldPassword, "starts or ends with a space.", "Make sure the space is part of the password.")
	}
}

var exchangeVersions = []string{
	"Exchange2007", "Exchange2007_SP1", "Exchange2009", "Exchange2010", "Exchange2010_SP1",
	"Exchange2010_SP2", "Exchange2012", "Exchange2013", "Exchange2013_SP1", "Exchange2015",
	"Exchange2016", "V2015_10_05", "V2016_01_06", "V2016_04_13", "V2016_07_13", "V2016_10_10",
	"V2017_01_07", "V2017_04_14", "V2017_07_11", "V2017_10_09", "V2018_01_08",
}

// ExchangeVersions returns the RequestServerVersion values EWS accepts
// (ExchangeVersionType in types.xsd), oldest first.
func ExchangeVersions() []string { return slices.Clone(exchangeVersions) }

func checkExchangeVersion(ch *checker, v string) {
	if v == "" || slices.Contains(exchangeVersions, v) {
		return
	}
	for _, known := range exchangeVersions {
		if strings.EqualFold(known, strings.TrimSpace(v)) {
			ch.fail(FieldExchangeVersion, fmt.Sprintf("%q must be written exactly as %q.", v, known), "Correct the spelling.", nil)
			return
		}
	}
	ch.fail(FieldExchangeVersion, fmt.Sprintf("%q is not an EWS version.", v),
		"Leave it empty, or choose one such as Exchange2010_SP2, Exchange2013_SP1 or Exchange2016.", nil)
}

func (c EmailConfiguration) checkAppOnly(ch *checker) {
	tenant := strings.TrimSpace(c.TenantID)
	switch {
	case tenant == "":
		ch.fail(FieldTenantID, "is empty.", "Enter the Directory (tenant) ID from the app registration's overview page in Microsoft Entra.", nil)
	case !isGUID(tenant):
		if _, err := NormalizeDomain(tenant); err != nil {
			ch.fail(FieldTenantID, fmt.Sprintf("%q is neither a GUID nor a domain.", c.TenantID),
				"Enter the Directory (tenant) ID, such as 72f988bf-86f1-41af-91ab-2d7cd011db47, or the tenant domain contoso.onmicrosoft.com.", nil)
		}
	}
	client := strings.TrimSpace(c.ClientID)
	switch {
	case client == "":
		ch.fail(FieldClientID, "is empty.", "Enter the Application (client) ID from the app registration's overview page.", nil)
	case !isGUID(client):
		ch.fail(FieldClientID, fmt.Sprintf("%q is not a GUID.", c.ClientID), "Copy the Application (client) ID, such as 00000000-0000-0000-0000-000000000000 with real digits.", nil)
	}
	hasCert := strings.TrimSpace(c.CertificatePEM) != "" || !c.PrivateKey.IsZero()
	switch {
	case c.ClientSecret.IsZero() && !hasCert:
		ch.fail(FieldClientSecret, "is empty and no certificate is set.", "Enter a client secret, or a certificate and its private key, from the app registration's Certificates & secrets page.", nil)
	case blankSecret(c.ClientSecret) && !hasCert:
		ch.fail(FieldClientSecret, "contains only spaces and no certificate is set.", "Enter a client secret, or a certificate and its private key, from the app registration's Certificates & secrets page.", nil)
	case blankSecret(c.ClientSecret) && hasCert:
		ch.fail(FieldClientSecret, "contains only spaces and a certificate is set.", "Clear the client secret field to use the certificate.", nil)
	case !c.ClientSecret.IsZero() && hasCert:
		ch.fail(FieldClientSecret, "is set together with a certificate.", "Keep one: either the client secret or the certificate and private key.", nil)
	case hasCert:
		c.checkCertificate(ch)
	}
}

func (c EmailConfiguration) checkCertificate(ch *checker) {
	if strings.TrimSpace(c.CertificatePEM) == "" {
		ch.fail(FieldCertificate, "is empty but a private key is set.", "Paste the certificate (PEM, -----BEGIN CERTIFICATE-----) uploaded to the app registration.", nil)
		return
	}
	if c.PrivateKey.IsZero() {
		ch.fail(FieldPrivateKey, "is empty but a certificate is set.", "Paste the certificate's private key (PEM).", nil)
	}
	block, _ := pem.Decode([]byte(c.CertificatePEM))
	if block == nil || block.Type != "CERTIFICATE" {
		ch.fail(FieldCertificate, "is not a PEM certificate.", "Paste the certificate as text starting with -----BEGIN CERTIFICATE-----.", nil)
		return
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		ch.fail(FieldCertificate, "cannot be read: "+strings.TrimPrefix(err.Error(), "x509: ")+".", "Export the certificate again as PEM.", nil)
		return
	}
	switch {
	case ch.now.After(cert.NotAfter):
		ch.fail(FieldCertificate, fmt.Sprintf("expired on %s.", cert.NotAfter.UTC().Format(time.DateOnly)), "Upload a new certificate to the app registration and enter it here.", nil)
	case ch.now.Before(cert.NotBefore):
		ch.fail(FieldCertificate, fmt.Sprintf("is not valid before %s.", cert.NotBefore.UTC().Format(time.DateOnly)), "Check the certificate's dates.", nil)
	case ch.now.Add(30 * 24 * time.Hour).After(cert.NotAfter):
		ch.warn(FieldCertificate, fmt.Sprintf("expires on %s.", cert.NotAfter.UTC().Format(time.DateOnly)), "Renew it before then.")
	}
	if c.PrivateKey.IsZero() {
		return
	}
	key, ok := parsePrivateKey(c.PrivateKey.Reveal())
	if !ok {
		// Never quote the key material.
		ch.fail(FieldPrivateKey, "is not a PEM private key (PKCS #8, PKCS #1 or SEC 1).", "Paste the key as text starting with -----BEGIN PRIVATE KEY-----.", nil)
		return
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		ch.fail(FieldPrivateKey, "does not belong to the certificate.", "Paste the private key that was generated with this certificate.", nil)
	}
}

func parsePrivateKey(s string) (crypto.Signer, bool) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, false
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		signer, ok := k.(crypto.Signer)
		return signer, ok
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, true
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, true
	}
	return nil, false
}

// isGUID accepts 8-4-4-4-12 hex digits, optionally in braces.
func isGUID(s string) bool {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// ValidSID reports whether s is an SDDL security identifier such as
// S-1-5-21-1493619105-1843311271-3936346804-1118.
func ValidSID(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts) > 18 || !strings.EqualFold(parts[0], "S") || parts[1] != "1" {
		return false
	}
	for _, p := range parts[2:] {
		if p == "" || len(p) > 20 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
		if _, err := strconv.ParseUint(p, 10, 64); err != nil {
			return false
		}
	}
	return true
}

// UserField returns the field name of user row i (0-based index): "Users row i+1".
func UserField(i int) string { return "Users row " + strconv.Itoa(i+1) }

func checkUsers(ch *checker, users []User, domains map[string]int) {
	if len(users) == 0 {
		ch.warn(FieldUsers, "has no users.", "Add the mailboxes to sync, one by one or from a CSV exported with Get-Mailbox | Export-Csv.")
		return
	}
	idx := newUserIndex(len(users))
	for i, u := range users {
		field := UserField(i)
		keys, problems := checkUserRow(u, idx.cache)
		for _, p := range problems {
			ch.fail(field, p.problem, p.fix, p.err)
		}
		for _, p := range idx.duplicates(keys, -1, rowName) {
			ch.fail(field, p.problem, p.fix, p.err)
		}
		idx.add(keys, i)
		if keys.addr != "" && len(domains) > 0 {
			if _, ok := domains[keys.domain]; !ok {
				ch.warn(field, fmt.Sprintf("%s is not in the organization's domains.", keys.addrShown), "Add its domain to Domains, or check the address.")
			}
		}
		switch u.ImpersonateBy {
		case IdentityUPN:
			if strings.TrimSpace(u.UPN) == "" {
				ch.warn(field, "is set to impersonate by UPN but has no UPN.", "Enter the UPN; until then "+u.ImpersonationIdentity().Kind.String()+" is used.")
			}
		case IdentitySID:
			if strings.TrimSpace(u.SID) == "" {
				ch.warn(field, "is set to impersonate by SID but has no SID.", "Enter the SID; until then "+u.ImpersonationIdentity().Kind.String()+" is used.")
			}
		}
	}
}

// rowName names row j (0-based) in Validate's messages.
func rowName(j int) string { return "row " + strconv.Itoa(j+1) }

// rowProblem is one problem of a user row, worded for Validate's
// [FieldError] and reused by the bulk add for its [RowError].
type rowProblem struct {
	problem, fix string
	err          error
}

// userKeys are the keys a user row must not share with another row: the
// comparison keys of its address and UPN and its upper-cased SID, each
// empty when absent or invalid; domain is the address's ASCII domain.
type userKeys struct {
	addr, upn, sid, domain string
	// The address, UPN and SID as written, for messages.
	addrShown, upnShown, sidShown string
}

// checkUserRow checks one user row on its own (Validate and the bulk add
// both use it, so an import never keeps a row that Validate refuses) and
// returns its keys for the duplicate checks of [userIndex].
func checkUserRow(u User, cache domainCache) (userKeys, []rowProblem) {
	var k userKeys
	var probs []rowProblem
	if strings.TrimSpace(u.PrimarySMTP) == "" {
		probs = append(probs, rowProblem{"has no primary SMTP address.", "Enter the mailbox's primary SMTP address, or remove the row.", ErrBadAddress})
	} else if a, err := parseEmailAddress(u.PrimarySMTP, cache); err != nil {
		probs = append(probs, rowProblem{fmt.Sprintf("primary SMTP address: %s.", reason(err)), "Correct the address.", ErrBadAddress})
	} else {
		k.addr, k.domain, k.addrShown = a.Key(), a.Domain(), a.String()
	}
	if upn := strings.TrimSpace(u.UPN); upn != "" {
		if ua, err := parseEmailAddress(upn, cache); err != nil {
			probs = append(probs, rowProblem{fmt.Sprintf("user principal name: %s.", reason(err)), "Correct the UPN or leave it empty.", ErrBadAddress})
		} else {
			k.upn, k.upnShown = ua.Key(), upn
		}
	}
	if sid := strings.TrimSpace(u.SID); sid != "" {
		if !ValidSID(sid) {
			probs = append(probs, rowProblem{fmt.Sprintf("SID %s is not a security identifier.", mailaddr.Quote(sid)), "Use the form S-1-5-21-…, or leave it empty.", nil})
		} else {
			k.sid, k.sidShown = strings.ToUpper(sid), sid
		}
	}
	switch u.ImpersonateBy {
	case IdentityAuto, IdentityPrimarySMTP, IdentitySMTP, IdentityUPN, IdentitySID:
	default:
		probs = append(probs, rowProblem{fmt.Sprintf("has the unknown identity kind %d.", int(u.ImpersonateBy)), "Choose Auto, PrimarySMTP, UPN, SID or SMTP.", nil})
	}
	if u.Sync.Status < NotActivated || u.Sync.Status > Deactivated {
		probs = append(probs, rowProblem{fmt.Sprintf("has the unknown sync status %d.", int(u.Sync.Status)), "Set it to NotActivated.", nil})
	}
	return k, probs
}

// userIndex finds the rows that hold an address, UPN or SID, for the
// duplicate checks of Validate and of the bulk add.
type userIndex struct {
	byAddr, byUPN, bySID map[string]int
	cache                domainCache
}

func newUserIndex(hint int) *userIndex {
	return &userIndex{
		byAddr: make(map[string]int, hint),
		byUPN:  make(map[string]int, hint),
		bySID:  make(map[string]int, hint),
		cache:  domainCache{},
	}
}

// add records the keys of row i; a key already held by another row keeps
// its first holder.
func (x *userIndex) add(k userKeys, i int) {
	for _, e := range []struct {
		m   map[string]int
		key string
	}{{x.byAddr, k.addr}, {x.byUPN, k.upn}, {x.bySID, k.sid}} {
		if _, taken := e.m[e.key]; e.key != "" && !taken {
			e.m[e.key] = i
		}
	}
}

// duplicates returns a problem for each key of k held by a row other than
// self (-1 for none), naming that row with where.
func (x *userIndex) duplicates(k userKeys, self int, where func(int) string) []rowProblem {
	var probs []rowProblem
	if j, dup := x.byAddr[k.addr]; k.addr != "" && dup && j != self {
		probs = append(probs, rowProblem{fmt.Sprintf("%s is listed twice (also %s).", k.addrShown, where(j)), "Remove one of the rows.", ErrDuplicate})
	}
	if j, dup := x.byUPN[k.upn]; k.upn != "" && dup && j != self {
		probs = append(probs, rowProblem{fmt.Sprintf("user principal name %s is listed twice (also %s).", k.upnShown, where(j)), "Each mailbox has its own UPN; correct or remove one.", ErrDuplicate})
	}
	if j, dup := x.bySID[k.sid]; k.sid != "" && dup && j != self {
		probs = append(probs, rowProblem{fmt.Sprintf("SID %s is listed twice (also %s).", k.sidShown, where(j)), "Each mailbox has its own SID; correct or remove one.", ErrDuplicate})
	}
	return probs
}

// reason strips the package prefix and sentinel text from an address error.
func reason(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, ErrBadAddress.Error()+": ")
	return strings.TrimPrefix(s, "org: ")
}

// checkID validates an organization ID (used in file names).
func checkID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("org: organization ID %q must be 1 to 128 characters", id)
	}
	if id[0] == '.' {
		return fmt.Errorf("org: organization ID %q must not start with a dot", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isASCIIAlnum(c) && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("org: organization ID %q may use only A-Z a-z 0-9 . _ -", id)
		}
	}
	return nil
}
