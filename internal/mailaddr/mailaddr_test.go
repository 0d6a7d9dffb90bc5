package mailaddr

import (
	"strings"
	"testing"
)

func TestParseForms(t *testing.T) {
	for _, tc := range []struct {
		in, wire, key, domain string
	}{
		{"anna@contoso.com", "anna@contoso.com", "anna@contoso.com", "contoso.com"},
		{"  Anna@Contoso.COM ", "Anna@Contoso.COM", "anna@contoso.com", "contoso.com"},
		{"anna@bücher.example", "anna@bücher.example", "anna@xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"Anna@BÜCHER.example", "Anna@BÜCHER.example", "anna@xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"anna@xn--bcher-kva.example", "anna@xn--bcher-kva.example", "anna@xn--bcher-kva.example", "xn--bcher-kva.example"},
		// NFD (e + combining acute) is stored and sent as NFC, and keys alike.
		{"rene\u0301@contoso.com", "ren\u00e9@contoso.com", "ren\u00e9@contoso.com", "contoso.com"},
		{"REN\u00c9@contoso.com", "REN\u00c9@contoso.com", "ren\u00e9@contoso.com", "contoso.com"},
	} {
		a, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q) error: %v", tc.in, err)
			continue
		}
		if a.String() != tc.wire || a.Key() != tc.key || a.Domain() != tc.domain {
			t.Errorf("Parse(%q) = wire %q key %q domain %q, want %q %q %q", tc.in, a.String(), a.Key(), a.Domain(), tc.wire, tc.key, tc.domain)
		}
		if Key(tc.in) != tc.key {
			t.Errorf("Key(%q) = %q, want %q", tc.in, Key(tc.in), tc.key)
		}
	}
}

func TestParseRefusesInvisible(t *testing.T) {
	for _, in := range []string{
		"alice@con\u200btoso.example", // zero-width space in the domain (UTS #46 would drop it)
		"al\u200bice@contoso.example", // in the local part
		"alice@contoso\u00ad.example", // soft hyphen
		"alice\u200d@contoso.example", // zero-width joiner
		"alice@contoso.example\u200e", // left-to-right mark
		"\ufeffalice@contoso.example", // byte order mark
		"ali\u00a0ce@contoso.example", // no-break space
		"alice\ufe0f@contoso.example", // variation selector
		"alice@conto\x00so.example",   // NUL
		"alice@conto\u0085so.example", // C1 control
		"alice@con\u2028toso.example", // line separator
		"alice\u3164@contoso.example", // Hangul filler
	} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), "invisible or control character U+") {
			t.Errorf("Parse(%q) error = %v, want an invisible-character error naming the code point", in, err)
		}
		if Key(in) == Key(strings.Map(func(r rune) rune {
			if _, bad := FirstInvisible(string(r)); bad {
				return -1
			}
			return r
		}, in)) {
			t.Errorf("Key(%q) equals the key of the clean address; a clean row would be taken for its duplicate", in)
		}
	}
	if _, err := Domain("con\u200btoso.example"); err == nil {
		t.Errorf("Domain(zero-width space) = nil error, want an error")
	}
	if ValidHost("mail.con\u200btoso.example") {
		t.Errorf("ValidHost(zero-width space) = true, want false")
	}
}

func TestQuoteClips(t *testing.T) {
	long := strings.Repeat("ü", 100)
	q := Quote(long)
	if len(q) > 90 || !strings.HasSuffix(q, "…") {
		t.Errorf("Quote(200 bytes) = %q (%d bytes), want at most ~80 bytes ending in …", q, len(q))
	}
	if _, err := Parse(strings.Repeat("a", 100) + "@" + strings.Repeat("b", 150) + ".example"); err == nil || len(err.Error()) > 200 {
		t.Errorf("Parse(long) error = %v, want a short error", err)
	}
}
