package org

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrBadAddress is wrapped by every error [ParseEmailAddress] returns.
var ErrBadAddress = errors.New("org: not a valid email address")

// EmailAddress is a parsed SMTP address. It keeps the admin's form for display
// ([EmailAddress.String]) and a normalised form for comparison
// ([EmailAddress.Key]): local part lower-cased, domain converted to lower-case
// ASCII (punycode for internationalised domains), so "Anna@Bücher.example" and
// "anna@xn--bcher-kva.example" are the same mailbox.
type EmailAddress struct {
	display string
	key     string
	at      int // index of '@' in key
}

// ParseEmailAddress parses an SMTP address such as "anna@contoso.com" or
// "anna@bücher.example". Surrounding spaces are ignored. Display-name forms
// ("Anna <anna@contoso.com>"), quoted local parts and address literals are
// not mailbox addresses an admin types into a user list, and are rejected.
// Errors wrap [ErrBadAddress] and say what is wrong.
func ParseEmailAddress(s string) (EmailAddress, error) {
	return parseEmailAddress(s, nil)
}

// domainCache memoises domain normalisation within one bulk operation.
type domainCache map[string]domainResult

type domainResult struct {
	ascii string
	err   error
}

func parseEmailAddress(s string, cache domainCache) (EmailAddress, error) {
	display := strings.TrimSpace(s)
	if display == "" {
		return EmailAddress{}, fmt.Errorf("%w: it is empty", ErrBadAddress)
	}
	if !utf8.ValidString(display) {
		return EmailAddress{}, fmt.Errorf("%w: it is not valid UTF-8 text", ErrBadAddress)
	}
	if len(display) > 320 {
		return EmailAddress{}, fmt.Errorf("%w: it is too long (at most 254 characters)", ErrBadAddress)
	}
	at := strings.LastIndexByte(display, '@')
	if at < 0 {
		return EmailAddress{}, fmt.Errorf("%w: %q has no @", ErrBadAddress, display)
	}
	local, domain := display[:at], display[at+1:]
	if strings.HasSuffix(domain, ".") {
		// DNS allows a root dot, but Exchange matches addresses as typed:
		// anna@contoso.com. would be looked up and not found.
		return EmailAddress{}, fmt.Errorf("%w: %q ends with a dot; remove it", ErrBadAddress, display)
	}
	if err := checkLocalPart(local); err != nil {
		return EmailAddress{}, fmt.Errorf("%w: %q: %s", ErrBadAddress, display, err)
	}
	var ascii string
	var err error
	if cache != nil {
		r, ok := cache[domain]
		if !ok {
			r.ascii, r.err = NormalizeDomain(domain)
			cache[domain] = r
		}
		ascii, err = r.ascii, r.err
	} else {
		ascii, err = NormalizeDomain(domain)
	}
	if err != nil {
		return EmailAddress{}, fmt.Errorf("%w: %q: %s", ErrBadAddress, display, strings.TrimPrefix(err.Error(), "org: "))
	}
	key := strings.ToLower(local) + "@" + ascii
	if len(key) > 254 {
		return EmailAddress{}, fmt.Errorf("%w: %q is longer than 254 characters", ErrBadAddress, display)
	}
	return EmailAddress{display: display, key: key, at: len(local)}, nil
}

// checkLocalPart accepts RFC 5322 dot-atoms, extended with non-ASCII letters
// and digits (RFC 6531).
func checkLocalPart(local string) error {
	switch {
	case local == "":
		return errors.New("nothing before the @")
	case len(local) > 64:
		return errors.New("the part before the @ is longer than 64 characters")
	case local[0] == '.' || local[len(local)-1] == '.':
		return errors.New("the part before the @ starts or ends with a dot")
	case strings.Contains(local, ".."):
		return errors.New("the part before the @ has two dots in a row")
	}
	for _, r := range local {
		if r < utf8.RuneSelf {
			if isASCIIAlnum(byte(r)) || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r) {
				continue
			}
			if r == ' ' {
				return errors.New("it contains a space")
			}
			return fmt.Errorf("the character %q is not allowed before the @", r)
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
			return fmt.Errorf("the character %q is not allowed before the @", r)
		}
	}
	return nil
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// idnaProfile maps and validates domains the way a resolver looks them up
// (UTS #46 with the Bidi and ContextJ rules and DNS length limits). An
// *idna.Profile is immutable.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.VerifyDNSLength(true),
	idna.StrictDomainName(true),
)

// NormalizeDomain returns the lower-case ASCII (punycode) form of a mail or
// host domain such as "Contoso.COM" or "bücher.example", used for
// comparisons. It requires at least two labels and rejects IP literals.
func NormalizeDomain(domain string) (string, error) {
	d := strings.TrimSpace(domain)
	if d == "" {
		return "", errors.New("org: the domain is empty")
	}
	if fast, ok := asciiDomainFast(d); ok {
		d = fast
	} else {
		a, err := idnaProfile.ToASCII(d)
		if err != nil {
			return "", fmt.Errorf("org: %q is not a valid domain name", d)
		}
		d = a
	}
	d = strings.TrimSuffix(d, ".")
	if d == "" || !strings.Contains(d, ".") {
		return "", fmt.Errorf("org: %q is not a full domain name (like contoso.com)", domain)
	}
	if last := d[strings.LastIndexByte(d, '.')+1:]; last != "" && strings.Trim(last, "0123456789") == "" {
		return "", fmt.Errorf("org: %q is an IP address, not a domain name", domain)
	}
	return d, nil
}

// asciiDomainFast handles the common case — plain LDH labels without
// punycode — without the IDNA machinery, returning the lower-cased form.
func asciiDomainFast(d string) (string, bool) {
	if len(d) > 253 {
		return "", false
	}
	labelLen := 0
	lower := true
	for i := 0; i < len(d); i++ {
		c := d[i]
		switch {
		case c == '.':
			if labelLen == 0 || d[i-1] == '-' {
				return "", false
			}
			labelLen = 0
			continue
		case c >= 'A' && c <= 'Z':
			lower = false
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
		case c == '-':
			if labelLen == 0 {
				return "", false
			}
		default:
			return "", false
		}
		labelLen++
		if labelLen > 63 {
			return "", false
		}
		if c == '-' && labelLen == 4 && d[i-1] == '-' {
			// "xn--" and other "??--" labels go through IDNA validation.
			return "", false
		}
	}
	if labelLen == 0 || d[len(d)-1] == '-' {
		return "", false
	}
	if !lower {
		return strings.ToLower(d), true
	}
	return d, true
}

// String returns the address as the admin wrote it (trimmed).
func (a EmailAddress) String() string { return a.display }

// Key returns the normalised form used to compare addresses: lower-case local
// part, lower-case ASCII domain.
func (a EmailAddress) Key() string { return a.key }

// LocalPart returns the part before the @ as written.
func (a EmailAddress) LocalPart() string { return a.display[:a.at] }

// Domain returns the normalised ASCII (punycode) domain.
func (a EmailAddress) Domain() string {
	if a.key == "" {
		return ""
	}
	return a.key[a.at+1:]
}

// IsZero reports whether a is the zero EmailAddress.
func (a EmailAddress) IsZero() bool { return a.key == "" }

// AddressKey returns the comparison key of s (see [EmailAddress.Key]), or the
// trimmed, lower-cased input when s is not a valid address, so callers can
// still match it against itself.
func AddressKey(s string) string {
	a, err := ParseEmailAddress(s)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(s))
	}
	return a.key
}
