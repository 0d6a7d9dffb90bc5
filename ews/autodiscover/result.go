package autodiscover

import (
	"errors"
	"fmt"
	"strings"
)

// Names of user settings (SOAP GetUserSettings; POX and JSON answers are
// mapped onto the same names).
const (
	SettingExternalEwsURL          = "ExternalEwsUrl"
	SettingInternalEwsURL          = "InternalEwsUrl"
	SettingGroupingInformation     = "GroupingInformation"
	SettingEwsSupportedSchemas     = "EwsSupportedSchemas"
	SettingUserDisplayName         = "UserDisplayName"
	SettingAutoDiscoverSMTPAddress = "AutoDiscoverSMTPAddress"
)

// DefaultSettings are requested when a caller names none.
var defaultSettings = []string{
	SettingExternalEwsURL, SettingInternalEwsURL, SettingGroupingInformation,
	SettingEwsSupportedSchemas, SettingUserDisplayName, SettingAutoDiscoverSMTPAddress,
}

// DefaultSettings returns the settings requested when a caller names none:
// both EWS URLs, GroupingInformation, EwsSupportedSchemas, the display name
// and the Autodiscover SMTP address.
func DefaultSettings() []string { return append([]string(nil), defaultSettings...) }

// UserSettings maps setting names to values. A collection setting (not a
// string) is present with an empty value.
type UserSettings map[string]string

// EWSURL returns ExternalEwsUrl, or InternalEwsUrl when there is no
// external one (Microsoft: prefer the external URL).
func (s UserSettings) EWSURL() string {
	if v := s[SettingExternalEwsURL]; v != "" {
		return v
	}
	return s[SettingInternalEwsURL]
}

// GroupingInformation returns the GroupingInformation setting ("" if
// absent); with the EWS URL it keys the affinity groups of notifications.
func (s UserSettings) GroupingInformation() string { return s[SettingGroupingInformation] }

// SettingError is a UserSettingError: a setting the server could not give.
type SettingError struct {
	Setting string
	Code    string // e.g. InvalidSetting, SettingIsNotAvailable
	Message string
}

// Source says how a candidate endpoint was found.
type Source string

// Sources of candidates, in the documented order, and of redirect hops.
const (
	SourceDomain           Source = "domain"               // https://<domain>/autodiscover/...
	SourceAutodiscoverHost Source = "autodiscover-host"    // https://autodiscover.<domain>/autodiscover/...
	SourceHTTPRedirect     Source = "http-redirect"        // Location of the unauthenticated GET to http://autodiscover.<domain>
	SourceSRV              Source = "srv"                  // _autodiscover._tcp.<domain>
	SourceRedirectURL      Source = "redirect-url"         // RedirectUrl / redirectUrl in an answer
	SourceRedirectAddress  Source = "redirect-address"     // RedirectAddress / redirectAddr: a new address
	SourceHTTPStatus       Source = "http-status-redirect" // a 301/302/307/308 answer to an Autodiscover request
)

// Outcome is what became of one attempt.
type Outcome string

// Outcomes of attempts.
const (
	// Answered: the endpoint gave settings with an acceptable EWS URL.
	Answered Outcome = "answered"
	// Redirected: the endpoint sent us elsewhere (URL or address).
	Redirected Outcome = "redirected"
	// Failed: the endpoint could not be reached or gave no usable answer.
	Failed Outcome = "failed"
	// Refused: we did not contact the endpoint, or did not send it
	// credentials, or did not accept its answer, because a safety rule
	// forbids it (Reason names the rule).
	Refused Outcome = "refused"
	// NeedsConfirmation: the target lies outside the allowed hosts; an
	// admin may confirm it by listing it with WithAllowedHosts.
	NeedsConfirmation Outcome = "needs-confirmation"
)

// Attempt is one candidate tried, with its outcome and why.
type Attempt struct {
	URL        string   // the endpoint, or the http:// probe, or "_autodiscover._tcp.<domain>" for SRV
	Protocol   Protocol // "" for the HTTP redirect probe and SRV
	Source     Source
	Address    string // the email address asked about
	Outcome    Outcome
	Reason     string // why it was accepted or refused, for an admin
	HTTPStatus int    // 0 when no HTTP answer
	AuthSent   string // scheme of the credentials sent on the final leg ("" for none)
}

// String renders an attempt on one line.
func (a Attempt) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", a.Outcome, a.URL)
	if a.Protocol != "" {
		fmt.Fprintf(&b, " (%s", a.Protocol)
	} else {
		b.WriteString(" (")
	}
	fmt.Fprintf(&b, ", %s", a.Source)
	if a.HTTPStatus != 0 {
		fmt.Fprintf(&b, ", HTTP %d", a.HTTPStatus)
	}
	if a.AuthSent != "" {
		fmt.Fprintf(&b, ", sent %s", a.AuthSent)
	}
	b.WriteString(")")
	if a.Reason != "" {
		b.WriteString(": " + a.Reason)
	}
	return b.String()
}

// Unconfirmed is a host that an unauthenticated probe or a server pointed
// at, outside the allowed hosts. It never received credentials; an admin who
// trusts it can list it with WithAllowedHosts and run discovery again.
type Unconfirmed struct {
	Host   string
	URL    string
	Source Source
	Reason string
}

// Result is a successful discovery.
type Result struct {
	// Email is the address asked about; Address the one the settings are
	// for (different after a RedirectAddress).
	Email, Address string
	// EWSURL is the EWS endpoint to use (ExternalEwsUrl, else
	// InternalEwsUrl); its host is an allowed one.
	EWSURL string
	// Settings are all settings the answer carried.
	Settings UserSettings
	// Endpoint is the Autodiscover URL that answered, over Protocol.
	Endpoint string
	Protocol Protocol
	// Source says how the first hop of the answering chain was found, Via
	// lists the redirects (URLs and addresses) that led to Endpoint.
	Source Source
	Via    []string
	// Attempts lists every candidate tried, in order, including refused ones.
	Attempts []Attempt
	// Unconfirmed lists hosts seen but not trusted.
	Unconfirmed []Unconfirmed
}

// ErrNotFound is matched (errors.Is) by a discovery in which no candidate
// gave an acceptable answer.
var ErrNotFound = errors.New("autodiscover: no candidate gave the EWS URL")

// ErrNeedsConfirmation is matched by a failed discovery that saw a target
// outside the allowed hosts: an admin may confirm it (WithAllowedHosts).
var ErrNeedsConfirmation = errors.New("autodiscover: a candidate outside the allowed hosts needs an admin's confirmation")

// Error is a failed discovery, with every attempt.
type Error struct {
	Email       string
	Attempts    []Attempt
	Unconfirmed []Unconfirmed
	Err         error // the cause when the discovery could not run (bad address, context)
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "autodiscover: no EWS URL for %s", e.Email)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
		return b.String()
	}
	fmt.Fprintf(&b, " after %d attempts", len(e.Attempts))
	if len(e.Unconfirmed) > 0 {
		hosts := make([]string, 0, len(e.Unconfirmed))
		for _, u := range e.Unconfirmed {
			hosts = append(hosts, u.Host)
		}
		fmt.Fprintf(&b, "; needs an admin's confirmation: %s (list with WithAllowedHosts if trusted)", strings.Join(dedupe(hosts), ", "))
	}
	if n := len(e.Attempts); n > 0 {
		fmt.Fprintf(&b, "; last: %s", e.Attempts[n-1])
	}
	return b.String()
}

// Is matches ErrNotFound and, when a host awaits confirmation,
// ErrNeedsConfirmation.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Err == nil
	case ErrNeedsConfirmation:
		return len(e.Unconfirmed) > 0
	}
	return false
}

func (e *Error) Unwrap() error { return e.Err }

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
