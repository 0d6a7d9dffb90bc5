package org

import (
	"net"
	"net/url"
	"strings"

	"github.com/sccsync/scc/internal/mailaddr"
)

// MergeSecrets returns c with each secret that came back empty taken from
// stored, for an admin panel that shows a configuration without its secrets
// (they marshal as "[redacted]" and are never read back from JSON) and
// receives it edited.
//
// A secret set in c is always c's. An empty one is taken from stored only
// when everything that decides who receives it is unchanged, so that
// editing the form cannot send the stored secret to a new place:
//
//   - Password: the same Mailbox Access Type, the same Account Logon (case
//     and surrounding spaces aside) and the same EWS endpoint (scheme, host
//     and port; host case and IDNA form aside).
//   - Client Secret: the same access type, Tenant ID, Client ID (case aside)
//     and EWS endpoint.
//   - Private Key: as Client Secret, and the same certificate.
//
// Otherwise the secret stays empty, and [EmailConfiguration.Validate] asks
// the admin to enter it again. An EWS URL that cannot be parsed never
// matches.
func (c EmailConfiguration) MergeSecrets(stored EmailConfiguration) EmailConfiguration {
	sameEndpoint := c.AccessType == stored.AccessType && sameEWSEndpoint(c.EWSURL, stored.EWSURL)
	if c.Password.IsZero() && sameEndpoint && foldTrim(c.AccountLogon) == foldTrim(stored.AccountLogon) {
		c.Password = stored.Password
	}
	sameApp := sameEndpoint && foldTrim(c.TenantID) == foldTrim(stored.TenantID) && foldTrim(c.ClientID) == foldTrim(stored.ClientID)
	if c.ClientSecret.IsZero() && sameApp {
		c.ClientSecret = stored.ClientSecret
	}
	if c.PrivateKey.IsZero() && sameApp && strings.TrimSpace(c.CertificatePEM) == strings.TrimSpace(stored.CertificatePEM) {
		c.PrivateKey = stored.PrivateKey
	}
	return c
}

func foldTrim(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// sameEWSEndpoint reports whether two EWS URLs reach the same server:
// scheme, host (lower-case ASCII) and port (the scheme's default when
// absent) are equal. The path does not decide who receives a credential.
func sameEWSEndpoint(a, b string) bool {
	ea, ok := ewsEndpoint(a)
	if !ok {
		return false
	}
	eb, ok := ewsEndpoint(b)
	return ok && ea == eb
}

func ewsEndpoint(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if net.ParseIP(host) == nil {
		if !mailaddr.ValidHost(host) {
			return "", false
		}
		if ascii, err := mailaddr.Domain(host); err == nil {
			host = ascii
		}
	}
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port), true
}
