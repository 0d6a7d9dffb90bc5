package scctest

import (
	"errors"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

// TestLookupUPNAndSID: UPNs equal to the primary address and generated SIDs
// are found without map entries of their own, in any case, and still count
// as taken.
func TestLookupUPNAndSID(t *testing.T) {
	s := newTestServer(t)
	dora, err := s.AddMailbox(Mailbox{PrimarySMTP: "dora@contoso.example"}) // UPN = primary, generated SID
	if err != nil {
		t.Fatal(err)
	}
	erin, err := s.AddMailbox(Mailbox{PrimarySMTP: "erin@contoso.example", SID: "S-1-5-21-1-2-3-4444"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetGrant(testSvc, ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ kind, value, want string }{
		{"PrincipalName", "DORA@Contoso.Example", "dora@contoso.example"},
		{"PrincipalName", "alice@AD.contoso.example", alice},
		{"SID", strings.ToLower(dora.SID), "dora@contoso.example"},
		{"SID", erin.SID, "erin@contoso.example"},
	} {
		s.ResetRequests()
		check(t, do(t, s, nil, svcReq(impersonate(tt.kind, tt.value), getInbox)), ok1())
		if got := s.Requests()[0].Impersonated; got != tt.want {
			t.Errorf("%s %s impersonated %q, want %q", tt.kind, tt.value, got, tt.want)
		}
	}
	// alice's primary address is not her UPN, nor is a proxy address.
	for _, upn := range []string{alice, "alice.alias@contoso.example"} {
		check(t, do(t, s, nil, svcReq(impersonate("PrincipalName", upn), getInbox)), faultOf(ews.ErrorNonExistentMailbox))
	}
	// An unknown RID of the generated form is no mailbox.
	unknown := dora.SID[:strings.LastIndexByte(dora.SID, '-')+1] + "99999"
	check(t, do(t, s, nil, svcReq(impersonate("SID", unknown), getInbox)), faultOf(ews.ErrorNonExistentMailbox))
	for _, m := range []Mailbox{
		{PrimarySMTP: "x1@contoso.example", UPN: "Dora@contoso.example"},
		{PrimarySMTP: "x2@contoso.example", SID: strings.ToLower(dora.SID)},
		{PrimarySMTP: "x3@contoso.example", SID: erin.SID},
	} {
		if _, err := s.AddMailbox(m); !errors.Is(err, ErrDuplicate) {
			t.Errorf("AddMailbox(%+v) = %v, want ErrDuplicate", m, err)
		}
	}
}

// TestLazyFolders: a mailbox whose folders are not allocated yet answers
// like one whose folders are: same folder ids before and after its first
// item, empty folders until then.
func TestLazyFolders(t *testing.T) {
	s := newTestServer(t)
	before, err := s.FolderID(bob, "inbox")
	if err != nil {
		t.Fatal(err)
	}
	if items, err := s.Items(bob, "deleteditems"); err != nil || len(items) != 0 {
		t.Errorf("Items(bob, deleteditems) of an untouched mailbox = %v, %v; want none", items, err)
	}
	check(t, do(t, s, nil, svcReq(imp(bob), getInbox)), ok1())
	if _, err := s.AddItem(bob, "inbox", Message{Subject: "first"}); err != nil {
		t.Fatal(err)
	}
	after, err := s.FolderID(bob, "inbox")
	if err != nil || after != before {
		t.Errorf("FolderID(bob, inbox) = %q, %v after the first item, want %q as before", after, err, before)
	}
	if items, err := s.Items(bob, "inbox"); err != nil || len(items) != 1 {
		t.Errorf("Items(bob, inbox) = %d items, %v; want 1", len(items), err)
	}
}
