package autodiscover

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// policy decides which hosts may receive credentials. It is fixed when a
// discovery starts, from the address the caller asked about, and never
// widened by anything a server says.
type policy struct {
	registered string          // registered domain of the email address, e.g. contoso.com
	listed     map[string]bool // hosts the caller allows, lower case
}

// registeredDomain returns the registered domain (eTLD+1) of host, or an
// error when host is a public suffix or not a DNS name.
func registeredDomain(host string) (string, error) {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "" || net.ParseIP(h) != nil || strings.ContainsAny(h, "/:@ \t\r\n") {
		return "", fmt.Errorf("autodiscover: %q is not a DNS domain name", host)
	}
	rd, err := publicsuffix.EffectiveTLDPlusOne(h)
	if err != nil {
		return "", fmt.Errorf("autodiscover: %q is a public suffix, not a registered domain: refusing to derive Autodiscover hosts from it", host)
	}
	return rd, nil
}

// hostKind says why a host may or may not get credentials.
type hostKind int

const (
	hostForeign    hostKind = iota // outside the registered domain, not listed
	hostRegistered                 // the registered domain or a subdomain of it
	hostListed                     // listed by the caller
)

func (p *policy) classify(host string) hostKind {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if p.listed[h] {
		return hostListed
	}
	if p.registered != "" && (h == p.registered || strings.HasSuffix(h, "."+p.registered)) {
		return hostRegistered
	}
	return hostForeign
}

// credentialsAllowed is the one rule every Authorization header passes: the
// URL is https and its host is the email address's registered domain (or a
// subdomain) or a host the caller listed. Bearer tokens go only to listed
// hosts: a token is minted for one audience (outlook.office365.com), and
// a discovered or redirected host is never that audience.
func (p *policy) credentialsAllowed(u *url.URL, cred Credentials) error {
	if u.Scheme != "https" {
		return fmt.Errorf("credentials go only over https, and %s is %s", u.Redacted(), u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("the URL %s carries user information", u.Redacted())
	}
	switch p.classify(u.Hostname()) {
	case hostListed:
		return nil
	case hostRegistered:
		if cred.kind == credBearer {
			return fmt.Errorf("bearer tokens go only to hosts listed with WithAllowedHosts, and %s is not one", u.Hostname())
		}
		return nil
	}
	return fmt.Errorf("%s is outside %s and not listed with WithAllowedHosts", u.Hostname(), p.registered)
}
