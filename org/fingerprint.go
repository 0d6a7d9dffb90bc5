package org

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/url"
	"strings"
)

// fingerprintVersion prefixes every fingerprint so the recipe can change.
const fingerprintVersion = "v1:"

// Fingerprint returns a stable, opaque digest of the fields that decide
// whether impersonated access works: access type, EWS URL (scheme and host
// case-folded), Account Logon (case-folded), password, auth method, Exchange
// version, tenant, client id, client secret, certificate and private key.
// Users checked against one fingerprint need a renewal check when it changes.
//
// Secrets enter only as SHA-256 digests that key an HMAC-SHA256 over the
// other fields, so the fingerprint reveals no secret and can be stored and
// logged. Like any deterministic digest it cannot stop someone who already
// knows every other field from testing password guesses against it; treat it
// as a change detector, not as a password hash.
func (c EmailConfiguration) Fingerprint() string {
	secrets := sha256.New()
	for _, s := range []Secret{c.Password, c.ClientSecret, c.PrivateKey} {
		writeField(secrets, s.Reveal())
	}
	mac := hmac.New(sha256.New, secrets.Sum([]byte("scc/org/fingerprint/v1")))
	for _, f := range []string{
		c.AccessType.String(),
		canonicalURL(c.EWSURL),
		strings.ToLower(strings.TrimSpace(c.AccountLogon)),
		c.AuthMethod.String(),
		strings.TrimSpace(c.ExchangeVersion),
		strings.ToLower(strings.TrimSpace(c.TenantID)),
		strings.ToLower(strings.TrimSpace(c.ClientID)),
		strings.TrimSpace(c.CertificatePEM),
	} {
		writeField(mac, f)
	}
	return fingerprintVersion + hex.EncodeToString(mac.Sum(nil))
}

// writeField writes a length-prefixed field so that field boundaries cannot
// be shifted to produce the same digest from different values.
func writeField(w interface{ Write([]byte) (int, error) }, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	w.Write(n[:])
	w.Write([]byte(s))
}

// canonicalURL case-folds the scheme, host and path of an EWS URL (all
// case-insensitive for EWS), keeping anything unparsable as written.
func canonicalURL(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.ToLower(u.Path)
	u.RawPath = ""
	return u.String()
}
