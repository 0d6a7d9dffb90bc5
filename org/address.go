package org

import (
	"errors"
	"fmt"

	"github.com/sccsync/scc/internal/mailaddr"
)

// ErrBadAddress is wrapped by every error [ParseEmailAddress] returns.
var ErrBadAddress = errors.New("org: not a valid email address")

// EmailAddress is a parsed SMTP address. It has two forms, shared by every
// package of this module (org, impersonation, ews and the scctest fake):
//
//   - the wire form ([EmailAddress.String]): the address as the admin wrote
//     it, trimmed, in Unicode NFC. It is what is stored and sent to
//     Exchange. Parsing refuses invisible and control characters (zero-width
//     spaces and joiners, soft hyphens, bidi marks, no-break spaces,
//     controls), so the wire form holds only characters the admin can see.
//   - the comparison key ([EmailAddress.Key]): local part lower-cased, domain
//     mapped by UTS #46 to lower-case ASCII (punycode), so
//     "Anna@Bücher.example" and "anna@xn--bcher-kva.example" are the same
//     mailbox. The key is used for comparison only, never sent.
type EmailAddress struct {
	a mailaddr.Address
}

// ParseEmailAddress parses an SMTP address such as "anna@contoso.com" or
// "anna@bücher.example". Surrounding spaces are ignored. Display-name forms
// ("Anna <anna@contoso.com>"), quoted local parts, address literals and
// addresses holding invisible or control characters are not mailbox
// addresses an admin types into a user list, and are rejected. Errors wrap
// [ErrBadAddress] and say what is wrong.
func ParseEmailAddress(s string) (EmailAddress, error) {
	return parseEmailAddress(s, nil)
}

// domainCache memoises domain normalisation within one bulk operation.
type domainCache = mailaddr.Cache

func parseEmailAddress(s string, cache domainCache) (EmailAddress, error) {
	a, err := mailaddr.ParseCached(s, cache)
	if err != nil {
		return EmailAddress{}, fmt.Errorf("%w: %s", ErrBadAddress, err)
	}
	return EmailAddress{a}, nil
}

// NormalizeDomain returns the lower-case ASCII (punycode) form of a mail or
// host domain such as "Contoso.COM" or "bücher.example", used for
// comparisons. It requires at least two labels and rejects IP literals and
// invisible or control characters.
func NormalizeDomain(domain string) (string, error) {
	d, err := mailaddr.Domain(domain)
	if err != nil {
		return "", errors.New("org: " + err.Error())
	}
	return d, nil
}

// String returns the wire form: the address as the admin wrote it, trimmed,
// in NFC.
func (a EmailAddress) String() string { return a.a.String() }

// Key returns the comparison key: lower-case local part, lower-case ASCII
// domain.
func (a EmailAddress) Key() string { return a.a.Key() }

// LocalPart returns the part before the @ as written.
func (a EmailAddress) LocalPart() string { return a.a.LocalPart() }

// Domain returns the normalised ASCII (punycode) domain.
func (a EmailAddress) Domain() string { return a.a.Domain() }

// IsZero reports whether a is the zero EmailAddress.
func (a EmailAddress) IsZero() bool { return a.a.IsZero() }

// AddressKey returns the comparison key of s (see [EmailAddress.Key]), or the
// trimmed, lower-cased input when s is not a valid address, so callers can
// still match it against itself.
func AddressKey(s string) string { return mailaddr.Key(s) }
