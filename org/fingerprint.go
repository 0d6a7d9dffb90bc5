package org

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"net/url"
	"strings"
)

// Fingerprint recipes, each a prefix of the fingerprints it makes.
const (
	// fingerprintV1 was an HMAC keyed with a hash of the secrets: whoever
	// read a stored record could test password guesses against it offline.
	// Stores no longer write it (see markRenewals).
	fingerprintV1 = "v1:"
	// fingerprintKeyed is an HMAC-SHA256 keyed by the store.
	fingerprintKeyed = "v2:"
	// fingerprintSlow is PBKDF2-HMAC-SHA256, for configurations
	// fingerprinted without a store.
	fingerprintSlow = "v2p:"
)

// slowFingerprintIterations is the PBKDF2 work of [EmailConfiguration.Fingerprint].
const slowFingerprintIterations = 100_000

// Fingerprinter is implemented by stores that fingerprint email
// configurations with a key of their own ([MemoryStore], [FileStore]): a
// fingerprint then reveals nothing, not even to someone who holds it and
// every other field, because testing a password guess needs the store's key.
type Fingerprinter interface {
	// ConfigFingerprint returns the fingerprint of c, stable for the store's
	// lifetime (for a FileStore, for as long as its key).
	ConfigFingerprint(c EmailConfiguration) string
}

// ConfigFingerprint returns the fingerprint of c that store s records in
// [SyncState.ConfigFingerprint]: s's own when it is a [Fingerprinter],
// [EmailConfiguration.Fingerprint] otherwise. Users checked against one
// fingerprint need a renewal check when it changes. Package impersonation
// records and compares fingerprints through this function.
func ConfigFingerprint(s Store, c EmailConfiguration) string {
	if f, ok := s.(Fingerprinter); ok && !isNilStore(s) {
		return f.ConfigFingerprint(c)
	}
	return c.Fingerprint()
}

// Fingerprint returns a stable, opaque digest of the fields that decide
// whether impersonated access works: access type, EWS URL (scheme and host
// case-folded), Account Logon (case-folded), password, auth method, Exchange
// version, tenant, client id, client secret, certificate and private key.
//
// It is the fingerprint of a configuration without a store, and costs a
// slow key derivation (PBKDF2-HMAC-SHA256, 100,000 iterations, some tens of
// milliseconds) so that someone who holds it and every other field pays that
// for each password guess. Stores record the cheaper and stronger
// [ConfigFingerprint], keyed with a secret of the store that a reader of the
// stored record does not have; use that to compare with stored users.
func (c EmailConfiguration) Fingerprint() string {
	salt := sha256.New()
	salt.Write([]byte("scc/org/fingerprint/v2p"))
	c.writeFingerprintFields(salt)
	secrets := sha256.New()
	c.writeFingerprintSecrets(secrets)
	key, err := pbkdf2.Key(sha256.New, hex.EncodeToString(secrets.Sum(nil)), salt.Sum(nil), slowFingerprintIterations, 32)
	if err != nil {
		panic("org: pbkdf2: " + err.Error()) // only for invalid parameters, which these are not
	}
	return fingerprintSlow + hex.EncodeToString(key)
}

// keyedFingerprint is the fingerprint of c under the MAC newMAC makes.
func keyedFingerprint(newMAC func() hash.Hash, c EmailConfiguration) string {
	mac := newMAC()
	c.writeFingerprintFields(mac)
	c.writeFingerprintSecrets(mac)
	return fingerprintKeyed + hex.EncodeToString(mac.Sum(nil))
}

// legacyFingerprintV1 is the v1 recipe, kept only to recognise (and
// replace) fingerprints stored by earlier versions.
func legacyFingerprintV1(c EmailConfiguration) string {
	secrets := sha256.New()
	c.writeFingerprintSecrets(secrets)
	mac := hmac.New(sha256.New, secrets.Sum([]byte("scc/org/fingerprint/v1")))
	c.writeFingerprintFields(mac)
	return fingerprintV1 + hex.EncodeToString(mac.Sum(nil))
}

func (c EmailConfiguration) writeFingerprintFields(w hash.Hash) {
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
		writeField(w, f)
	}
}

func (c EmailConfiguration) writeFingerprintSecrets(w hash.Hash) {
	for _, s := range []Secret{c.Password, c.ClientSecret, c.PrivateKey} {
		writeField(w, s.Reveal())
	}
}

// markRenewals keeps the users' sync states true to o's configuration, as
// every save of [MemoryStore] and [FileStore] does: an Active user whose
// ConfigFingerprint is not the fingerprint (under fp) of o.Email was checked
// against another configuration and becomes NeedsRenewal (its fingerprint
// is kept: it says what the user was checked against). A v1 fingerprint
// (written by earlier versions, and guessable offline) is replaced by the
// current one when it matches the configuration, and dropped when it does
// not, so none stays on disk after a save; one made by
// [EmailConfiguration.Fingerprint] that matches is replaced by the store's.
func markRenewals(o *Organization, fp func(EmailConfiguration) string) {
	cur, v1, slow := "", "", ""
	for i := range o.Users {
		st := &o.Users[i].Sync
		if st.ConfigFingerprint == "" {
			continue
		}
		if cur == "" {
			cur = fp(o.Email)
		}
		if st.ConfigFingerprint == cur {
			continue
		}
		if strings.HasPrefix(st.ConfigFingerprint, fingerprintV1) {
			if v1 == "" {
				v1 = legacyFingerprintV1(o.Email)
			}
			if st.ConfigFingerprint == v1 {
				st.ConfigFingerprint = cur
				continue
			}
			st.ConfigFingerprint = ""
		} else if strings.HasPrefix(st.ConfigFingerprint, fingerprintSlow) {
			// Recorded by a caller with Fingerprint rather than
			// ConfigFingerprint: the same configuration, in the store's form.
			if slow == "" {
				slow = o.Email.Fingerprint()
			}
			if st.ConfigFingerprint == slow {
				st.ConfigFingerprint = cur
				continue
			}
		}
		if st.Status == Active {
			st.Status = NeedsRenewal
		}
	}
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
