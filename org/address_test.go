package org_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sccsync/scc/org"
)

func TestParseEmailAddress(t *testing.T) {
	tests := []struct {
		in, display, key, domain string
	}{
		{"anna@contoso.com", "anna@contoso.com", "anna@contoso.com", "contoso.com"},
		{"  Anna.Smith@Contoso.COM ", "Anna.Smith@Contoso.COM", "anna.smith@contoso.com", "contoso.com"},
		{"anna+sync@mail.contoso.co.uk", "anna+sync@mail.contoso.co.uk", "anna+sync@mail.contoso.co.uk", "mail.contoso.co.uk"},
		{"jörg@bücher.example", "jörg@bücher.example", "jörg@xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"JÖRG@BÜCHER.EXAMPLE", "JÖRG@BÜCHER.EXAMPLE", "jörg@xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"anna@xn--bcher-kva.example", "anna@xn--bcher-kva.example", "anna@xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"o'brien@contoso.com", "o'brien@contoso.com", "o'brien@contoso.com", "contoso.com"},
		{"user@例え.テスト", "user@例え.テスト", "user@xn--r8jz45g.xn--zckzah", "xn--r8jz45g.xn--zckzah"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := org.ParseEmailAddress(tt.in)
			if err != nil {
				t.Fatalf("ParseEmailAddress(%q) error: %v", tt.in, err)
			}
			if a.String() != tt.display || a.Key() != tt.key || a.Domain() != tt.domain {
				t.Errorf("ParseEmailAddress(%q) = (%q, key %q, domain %q), want (%q, %q, %q)",
					tt.in, a.String(), a.Key(), a.Domain(), tt.display, tt.key, tt.domain)
			}
		})
	}
}

func TestParseEmailAddressRejects(t *testing.T) {
	for _, in := range []string{
		"", "   ", "anna", "@contoso.com", "anna@", "anna@contoso", "anna smith@contoso.com",
		"anna..smith@contoso.com", ".anna@contoso.com", "anna.@contoso.com", "Anna <anna@contoso.com>",
		"anna@contoso..com", "anna@-contoso.com", "anna@contoso-.com", "anna@1.2.3.4", "anna@[1.2.3.4]",
		"anna@con_toso.com", "anna@contoso.com,bob@contoso.com", "a\x00b@contoso.com", "anna@xn--zz.example",
		"\xff@contoso.com", "a@" + string(make([]byte, 300)), "a@contoso.com.",
		"averyveryveryveryveryveryveryveryveryveryveryveryveryverylonglocalpart@contoso.com",
	} {
		if a, err := org.ParseEmailAddress(in); err == nil {
			t.Errorf("ParseEmailAddress(%q) = %q, want an error", in, a.Key())
		} else if !errors.Is(err, org.ErrBadAddress) {
			t.Errorf("ParseEmailAddress(%q) error = %v, want it to wrap ErrBadAddress", in, err)
		}
	}
}

func TestNormalizeDomain(t *testing.T) {
	for in, want := range map[string]string{
		"Contoso.COM": "contoso.com",
		"bücher.de":   "xn--bcher-kva.de",
		"ＣＯＮＴＯＳＯ.com": "contoso.com", // full-width letters map to ASCII
	} {
		if got, err := org.NormalizeDomain(in); err != nil || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestAddressKeyFallsBack(t *testing.T) {
	if got := org.AddressKey(" Not An Address "); got != "not an address" {
		t.Errorf("AddressKey(bad) = %q, want the trimmed lower-cased input", got)
	}
}

// One canonical form across layers: an address with an invisible character
// is refused everywhere (validation, import), so it can neither pass
// validation and fail on the wire nor make a clean row look like its
// duplicate.
func TestInvisibleCharactersRefused(t *testing.T) {
	dirty := "alice@con\u200btoso.example"
	if _, err := org.ParseEmailAddress(dirty); !errors.Is(err, org.ErrBadAddress) || !strings.Contains(err.Error(), "U+200B") {
		t.Errorf("ParseEmailAddress(%q) error = %v, want ErrBadAddress naming U+200B", dirty, err)
	}
	if err := org.ValidateUsers([]org.User{{PrimarySMTP: dirty}}); err == nil {
		t.Errorf("ValidateUsers(%q) = nil, want an error", dirty)
	}
	if err := org.ValidateUsers([]org.User{{PrimarySMTP: "alice@contoso.example", UPN: "al\u00adice@contoso.example"}}); err == nil {
		t.Errorf("ValidateUsers(UPN with a soft hyphen) = nil, want an error")
	}
	if _, err := org.NormalizeDomain("con\u200btoso.example"); err == nil {
		t.Errorf("NormalizeDomain(zero-width space) = nil error, want an error")
	}
	o := &org.Organization{Name: "Contoso"}
	res, err := o.ImportCSV(strings.NewReader("PrimarySmtpAddress\n" + dirty + "\nalice@contoso.example\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 1 || res.Rejected[0].Line != 2 || len(res.Added) != 1 || res.Added[0].Line != 3 {
		t.Errorf("ImportCSV(dirty, clean) = %v %+v, want line 2 rejected and line 3 added", res, res.Rejected)
	}
	if org.AddressKey(dirty) == org.AddressKey("alice@contoso.example") {
		t.Errorf("AddressKey(%q) = AddressKey of the clean address, want them different", dirty)
	}
}
