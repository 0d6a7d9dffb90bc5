// Package mailaddr is the one canonical form of SMTP addresses shared by
// org, impersonation, ews and scctest, so that every layer agrees on which
// addresses are the same mailbox and on what is sent to Exchange.
//
// An address has two forms:
//
//   - the wire form ([Address.String]): what the admin wrote, trimmed and in
//     Unicode NFC. It is what is stored and sent to Exchange (ConnectingSID,
//     X-AnchorMailbox). Parse refuses invisible and control characters
//     (zero-width spaces and joiners, soft hyphens, bidi marks, variation
//     selectors, no-break spaces, C0/C1 controls), so the wire form shows
//     every character it holds.
//   - the comparison key ([Address.Key], [Key]): the wire form with the local
//     part lower-cased and the domain mapped by UTS #46 (IDNA lookup) to
//     lower-case ASCII, so "Anna@Bücher.example" and
//     "anna@xn--bcher-kva.example" are one mailbox. The key is for
//     comparison only and never sent.
//
// Errors are reasons without a package prefix ("it has no @"); callers wrap
// them in their own error.
package mailaddr

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// MaxLength is the longest address accepted, in bytes of its key (RFC 5321
// path limit less the angle brackets).
const MaxLength = 254

// Address is a parsed SMTP address.
type Address struct {
	wire string
	key  string
	at   int // index of '@' in wire
	kat  int // index of '@' in key
}

// Cache memoises domain mapping within one bulk operation. The zero value
// is not usable; make one with make(Cache) or NewCache.
type Cache map[string]domainResult

type domainResult struct {
	ascii string
	err   error
}

// NewCache returns an empty Cache.
func NewCache() Cache { return Cache{} }

// Parse parses an SMTP address such as "anna@contoso.com" or
// "anna@bücher.example". Surrounding white space is ignored. Display-name
// forms ("Anna <anna@contoso.com>"), quoted local parts and address literals
// are rejected, as are invisible and control characters anywhere.
func Parse(s string) (Address, error) { return ParseCached(s, nil) }

// ParseCached is Parse with a domain cache (nil for none).
func ParseCached(s string, cache Cache) (Address, error) {
	trimmed := strings.TrimSpace(s)
	if trimmed == "" {
		return Address{}, errors.New("it is empty")
	}
	if !utf8.ValidString(trimmed) {
		return Address{}, errors.New("it is not valid UTF-8 text")
	}
	if len(trimmed) > 320 {
		return Address{}, fmt.Errorf("it is too long (at most %d characters)", MaxLength)
	}
	if r, ok := FirstInvisible(trimmed); ok {
		return Address{}, fmt.Errorf("%s contains the invisible or control character %U; retype the address", Quote(trimmed), r)
	}
	wire := trimmed
	if !isASCII(wire) {
		wire = norm.NFC.String(wire)
	}
	at := strings.LastIndexByte(wire, '@')
	if at < 0 {
		return Address{}, fmt.Errorf("%s has no @", Quote(wire))
	}
	local, domain := wire[:at], wire[at+1:]
	if strings.HasSuffix(domain, ".") {
		// DNS allows a root dot, but Exchange matches addresses as typed:
		// anna@contoso.com. would be looked up and not found.
		return Address{}, fmt.Errorf("%s ends with a dot; remove it", Quote(wire))
	}
	if err := checkLocalPart(local); err != nil {
		return Address{}, fmt.Errorf("%s: %s", Quote(wire), err)
	}
	var ascii string
	var err error
	if cache != nil {
		r, ok := cache[domain]
		if !ok {
			r.ascii, r.err = Domain(domain)
			cache[domain] = r
		}
		ascii, err = r.ascii, r.err
	} else {
		ascii, err = Domain(domain)
	}
	if err != nil {
		return Address{}, fmt.Errorf("%s: %s", Quote(wire), err)
	}
	lower := strings.ToLower(local)
	key := lower + "@" + ascii
	if len(key) > MaxLength {
		return Address{}, fmt.Errorf("%s is longer than %d characters", Quote(wire), MaxLength)
	}
	return Address{wire: wire, key: key, at: at, kat: len(lower)}, nil
}

// Key returns the comparison key of s, or, when s is not a valid address,
// s trimmed and lower-cased, so that callers can still match it against
// itself.
func Key(s string) string {
	a, err := Parse(s)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(s))
	}
	return a.key
}

// String returns the wire form: the address as written, trimmed, in NFC.
func (a Address) String() string { return a.wire }

// Key returns the comparison key: local part lower-cased, domain in
// lower-case ASCII (punycode for internationalised domains).
func (a Address) Key() string { return a.key }

// LocalPart returns the part before the @ of the wire form.
func (a Address) LocalPart() string { return a.wire[:a.at] }

// Domain returns the domain in lower-case ASCII.
func (a Address) Domain() string {
	if a.key == "" {
		return ""
	}
	return a.key[a.kat+1:]
}

// IsZero reports whether a is the zero Address.
func (a Address) IsZero() bool { return a.key == "" }

// FirstInvisible returns the first invisible or control character of s:
// C0 and C1 controls, format characters (zero-width space, joiners, soft
// hyphen, bidi marks, byte order mark), private-use and surrogate code
// points, separators other than the ASCII space (no-break space, line and
// paragraph separators), variation selectors and the other default-ignorable
// code points.
func FirstInvisible(s string) (rune, bool) {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if r < 0x20 || r == 0x7f {
				return r, true
			}
			continue
		}
		if r == utf8.RuneError || invisible(r) {
			return r, true
		}
	}
	return 0, false
}

func invisible(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zs, unicode.Zl, unicode.Zp,
		unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) || r == 0x115F || r == 0x1160 || r == 0x3164 || r == 0xFFA0
}

// Quote quotes s for an error message, clipped to 80 bytes.
func Quote(s string) string {
	const max = 80
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// checkLocalPart accepts RFC 5322 dot-atoms, extended with non-ASCII letters,
// digits and combining marks (RFC 6531).
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

// Domain returns the lower-case ASCII (punycode) form of a mail or host
// domain such as "Contoso.COM" or "bücher.example". It requires at least two
// labels and rejects IP literals and invisible characters (which UTS #46
// would silently drop, making the key differ from what is sent).
func Domain(domain string) (string, error) {
	d := strings.TrimSpace(domain)
	if d == "" {
		return "", errors.New("the domain is empty")
	}
	if fast, ok := asciiDomainFast(d); ok {
		d = fast
	} else {
		if r, ok := FirstInvisible(d); ok {
			return "", fmt.Errorf("the domain %s contains the invisible or control character %U", Quote(d), r)
		}
		a, err := idnaProfile.ToASCII(d)
		if err != nil {
			return "", fmt.Errorf("%s is not a valid domain name", Quote(d))
		}
		d = a
	}
	d = strings.TrimSuffix(d, ".")
	if d == "" || !strings.Contains(d, ".") {
		return "", fmt.Errorf("%s is not a full domain name (like contoso.com)", Quote(domain))
	}
	if last := d[strings.LastIndexByte(d, '.')+1:]; last != "" && strings.Trim(last, "0123456789") == "" {
		return "", fmt.Errorf("%s is an IP address, not a domain name", Quote(domain))
	}
	return d, nil
}

// ValidHost reports whether host is a valid host name (single-label intranet
// names allowed, internationalised names allowed, no invisible characters).
func ValidHost(host string) bool {
	if _, ok := asciiDomainFast(host); ok {
		return true
	}
	if _, ok := FirstInvisible(host); ok {
		return false
	}
	_, err := idnaProfile.ToASCII(host)
	return err == nil
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
