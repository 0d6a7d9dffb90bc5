package scctest

import (
	"testing"
)

// The fake's directory keys addresses as org does: one mailbox under its
// Unicode and its punycode domain, and none under a spelling with an
// invisible character that org's validation refuses.
func TestDirectoryAddressKey(t *testing.T) {
	s := NewServer(t)
	if _, err := s.AddMailbox(Mailbox{PrimarySMTP: "anna@bücher.example", DisplayName: "Anna"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"anna@xn--bcher-kva.example", "Anna@BÜCHER.example", "anna@bücher.example"} {
		if err := s.SetMailboxEWSEnabled(a, true); err != nil {
			t.Errorf("SetMailboxEWSEnabled(%q) = %v, want the mailbox found", a, err)
		}
	}
	if _, err := s.AddMailbox(Mailbox{PrimarySMTP: "anna@xn--bcher-kva.example"}); !errorsIs(err, ErrDuplicate) {
		t.Errorf("AddMailbox(punycode spelling of an existing address) = %v, want ErrDuplicate", err)
	}
	if err := s.SetMailboxEWSEnabled("anna@b\u200bücher.example", true); !errorsIs(err, ErrNotFound) {
		t.Errorf("SetMailboxEWSEnabled(with a zero-width space) = %v, want ErrNotFound", err)
	}
}
