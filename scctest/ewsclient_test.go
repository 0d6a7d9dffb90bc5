package scctest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// TestWithEWSClient drives the fake with our own ews client over NTLM: the
// server's own tests use raw HTTP, so this is the cross-check from the other
// side.
func TestWithEWSClient(t *testing.T) {
	ctx := context.Background()
	s := scctest.NewServer(t, scctest.WithAuth(scctest.AuthNTLM))
	for _, a := range []string{"alice@contoso.example", "carol@contoso.example"} {
		if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: a}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddServiceAccount(`CONTOSO\svc-sync`, "Passw0rd!", scctest.ImpersonateScope("alice@contoso.example")); err != nil {
		t.Fatal(err)
	}
	c, err := ews.NewClient(s.EWSURL(), ews.WithNTLM(`CONTOSO\svc-sync`, "Passw0rd!"))
	if err != nil {
		t.Fatal(err)
	}
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
	inbox, err := alice.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox))
	if err != nil {
		t.Fatalf("Folder(inbox) error = %v", err)
	}
	if inbox.DisplayName != "Inbox" {
		t.Errorf("inbox.DisplayName = %q, want Inbox", inbox.DisplayName)
	}
	drafts := ews.DistinguishedFolder(ews.FolderDrafts)
	id, err := alice.CreateMessage(ctx, drafts, ews.Message{Subject: "probe", Body: ews.Body{Type: ews.BodyType("Text"), Content: "x"}})
	if err != nil {
		t.Fatalf("CreateMessage error = %v", err)
	}
	items, err := alice.FindAllItems(ctx, &ews.FindItemRequest{ParentFolderIDs: []ews.FolderID{drafts}, Shape: ews.ShapeDefault})
	if err != nil || len(items) != 1 || items[0].Subject != "probe" {
		t.Fatalf("FindAllItems = %+v, %v; want the probe", items, err)
	}
	if err := alice.DeleteItemByID(ctx, id, ews.HardDelete); err != nil {
		t.Fatalf("DeleteItemByID error = %v", err)
	}
	if left, _ := s.Items("alice@contoso.example", "drafts"); len(left) != 0 {
		t.Errorf("drafts after delete = %d items, want 0", len(left))
	}
	carol := c.With(ews.Impersonate(ews.PrimarySmtpAddress("carol@contoso.example")))
	if _, err := carol.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox)); !errors.Is(err, ews.ErrorImpersonateUserDenied) {
		t.Errorf("Folder(carol) error = %v, want ErrorImpersonateUserDenied", err)
	}
	s.AssertImpersonated(t, "alice@contoso.example")
	s.AssertAnchorMailbox(t)
	s.AssertFaultCount(t, ews.ErrorImpersonateUserDenied, 1)
}
