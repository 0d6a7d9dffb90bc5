package ews_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// These tests run the client against the fake Exchange server of package
// scctest, over NTLM (verified NTLMv2 on the server side).

const (
	svcLogon    = `CONTOSO\svc-sync`
	svcPassword = "Passw0rd!"
)

func newFakeExchange(t *testing.T, grant scctest.Grant) (*scctest.Server, *ews.Client) {
	t.Helper()
	s := scctest.NewServer(t)
	for _, m := range []scctest.Mailbox{
		{PrimarySMTP: "alice@contoso.example", ProxyAddresses: []string{"a.example@contoso.example"}, UPN: "alice@corp.contoso.example", SID: "S-1-5-21-1493619105-1843311271-3936346804-1118"},
		{PrimarySMTP: "bob@contoso.example"},
	} {
		if _, err := s.AddMailbox(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddServiceAccount(svcLogon, svcPassword, grant); err != nil {
		t.Fatal(err)
	}
	c, err := ews.NewClient(s.EWSURL(), ews.WithHTTPClient(s.Client()), ews.WithNTLM(svcLogon, svcPassword),
		ews.WithRetryPolicy(fastRetries()))
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func TestScctestImpersonationKinds(t *testing.T) {
	_, c := newFakeExchange(t, scctest.ImpersonateScope("alice@contoso.example"))
	ctx := context.Background()
	for _, sid := range []ews.ConnectingSID{
		ews.PrimarySmtpAddress("alice@contoso.example"),
		ews.SmtpAddress("a.example@contoso.example"),
		ews.PrincipalName("alice@corp.contoso.example"),
		ews.SID("S-1-5-21-1493619105-1843311271-3936346804-1118"),
	} {
		t.Run(sid.Kind.String(), func(t *testing.T) {
			inbox, err := c.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox), ews.Impersonate(sid), ews.AnchorMailbox("alice@contoso.example"))
			if err != nil {
				t.Fatalf("Folder(inbox) as %v = %v", sid, err)
			}
			if inbox.FolderID.ID == "" {
				t.Errorf("Folder(inbox) as %v has no id", sid)
			}
		})
	}
	_, err := c.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox), ews.Impersonate(ews.PrimarySmtpAddress("bob@contoso.example")))
	var fe *ews.FaultError
	if !errors.As(err, &fe) || !errors.Is(err, ews.ErrorImpersonateUserDenied) {
		t.Errorf("Folder as bob (out of scope) = %v, want fault ErrorImpersonateUserDenied", err)
	}
	_, err = c.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox), ews.Impersonate(ews.PrimarySmtpAddress("ghost@contoso.example")))
	if !errors.Is(err, ews.ErrorNonExistentMailbox) {
		t.Errorf("Folder as ghost = %v, want ErrorNonExistentMailbox", err)
	}
}

func TestScctestDraftRoundTrip(t *testing.T) {
	s, c := newFakeExchange(t, scctest.ImpersonateAll())
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
	ctx := context.Background()
	drafts := ews.DistinguishedFolder(ews.FolderDrafts)

	id, err := alice.CreateMessage(ctx, drafts, ews.Message{Subject: `probe <&> "1"`, Body: ews.Body{Content: "health check"}})
	if err != nil {
		t.Fatalf("CreateMessage = %v", err)
	}
	items, err := alice.FindAllItems(ctx, &ews.FindItemRequest{ParentFolderIDs: []ews.FolderID{drafts}, Shape: ews.ShapeDefault, Page: &ews.PageView{MaxEntries: 1}})
	if err != nil {
		t.Fatalf("FindAllItems(drafts) = %v", err)
	}
	if len(items) != 1 || items[0].ItemID.ID != id.ID || items[0].Subject != `probe <&> "1"` {
		t.Fatalf("FindAllItems(drafts) = %+v, want the new draft", items)
	}
	item, err := alice.Item(ctx, id)
	if err != nil || item.Subject != `probe <&> "1"` {
		t.Errorf("Item = %+v, %v, want the draft", item, err)
	}
	if err := alice.DeleteItemByID(ctx, id, ews.HardDelete); err != nil {
		t.Fatalf("DeleteItemByID = %v", err)
	}
	if err := alice.DeleteItemByID(ctx, id, ews.HardDelete); !errors.Is(err, ews.ErrorItemNotFound) {
		t.Errorf("second DeleteItemByID = %v, want ErrorItemNotFound", err)
	}
	left, err := s.Items("alice@contoso.example", "drafts")
	if err != nil || len(left) != 0 {
		t.Errorf("drafts after delete = %v, %v, want empty", left, err)
	}
}

func TestScctestResolveAndConvert(t *testing.T) {
	_, c := newFakeExchange(t, scctest.ImpersonateAll())
	ctx := context.Background()
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
	rn, err := alice.ResolveNames(ctx, &ews.ResolveNamesRequest{UnresolvedEntry: "bob@contoso.example", SearchScope: ews.ScopeActiveDirectory})
	if err != nil || rn.Err != nil || len(rn.Resolutions) != 1 || rn.Resolutions[0].Mailbox.EmailAddress != "bob@contoso.example" {
		t.Errorf("ResolveNames(bob) = %+v, %v, want one resolution", rn, err)
	}
	cv, err := alice.ConvertID(ctx, &ews.ConvertIDRequest{DestinationFormat: ews.FormatEwsID,
		SourceIDs: []ews.AlternateID{{Format: ews.FormatHexEntryID, ID: "00000000A7B1D4", Mailbox: "alice@contoso.example"}}})
	if err != nil {
		t.Fatalf("ConvertID = %v", err)
	}
	if cv.ServerVersion == nil || cv.ServerVersion.MajorVersion != 15 {
		t.Errorf("ConvertID ServerVersion = %+v, want major 15", cv.ServerVersion)
	}
}

func TestScctestFaults(t *testing.T) {
	s, c := newFakeExchange(t, scctest.ImpersonateAll())
	ctx := context.Background()
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
	inbox := ews.DistinguishedFolder(ews.FolderInbox)

	s.InjectNext(1, scctest.ServerBusy(30*time.Second))
	_, err := alice.Folder(ctx, inbox, ews.UseRetryPolicy(ews.NoRetries()))
	if d, ok := ews.BackOff(err); !ok || d != 30*time.Second {
		t.Errorf("Folder under ServerBusy = %v; BackOff = %v, %v, want 30s", err, d, ok)
	}

	s.InjectNext(1, scctest.DropConnection())
	_, err = alice.CreateMessage(ctx, ews.DistinguishedFolder(ews.FolderDrafts), ews.Message{Subject: "once"})
	var tr *ews.TransportError
	if !errors.As(err, &tr) || !tr.MaybeSent {
		t.Errorf("CreateMessage over a dropped connection = %v, want *TransportError with MaybeSent", err)
	}

	s.InjectNext(1, scctest.DropConnection())
	if _, err := alice.Folder(ctx, inbox); err != nil {
		t.Errorf("Folder over a dropped connection = %v, want success after a retry", err)
	}

	s.SetEWSEnabled(false)
	_, err = alice.Folder(ctx, inbox)
	var he *ews.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 403 {
		t.Errorf("Folder with EWS disabled = %v, want *HTTPError 403", err)
	}
	s.SetEWSEnabled(true)

	bad, err := ews.NewClient(s.EWSURL(), ews.WithHTTPClient(s.Client()), ews.WithNTLM(svcLogon, "wrong"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Folder(ctx, inbox)
	var ae *ews.AuthError
	if !errors.As(err, &ae) || ae.Scheme != "NTLM" || !cmp.Equal(ae.Offered, []string{"Negotiate", "NTLM", "Basic", "Bearer"}) {
		t.Errorf("Folder with a wrong password = %#v, want *AuthError NTLM offered [Negotiate NTLM Basic Bearer]", err)
	}
}

// TestScctestOddTextRoundTrip: text with XML specials, CR LF and tabs,
// written by the client and stored by the fake, reads back unchanged (the
// client sends CR as a character reference, which XML readers would
// otherwise turn into LF).
func TestScctestOddTextRoundTrip(t *testing.T) {
	s, c := newFakeExchange(t, scctest.ImpersonateAll())
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
	ctx := context.Background()
	const subject, body = "line one\r\nline two\tand <&> ]]> \"'", "para\r\n\r\nend\r"
	id, err := alice.CreateMessage(ctx, ews.DistinguishedFolder(ews.FolderDrafts), ews.Message{Subject: subject, Body: ews.Body{Content: body}})
	if err != nil {
		t.Fatalf("CreateMessage = %v", err)
	}
	stored, err := s.Items("alice@contoso.example", "drafts")
	if err != nil || len(stored) != 1 || stored[0].Subject != subject || stored[0].Body != body {
		t.Fatalf("drafts on the server = %+v, %v, want subject %q and body %q", stored, err, subject, body)
	}
	item, err := alice.Item(ctx, id)
	if err != nil || item.Subject != subject || item.Body.Content != body {
		t.Errorf("Item = %+v, %v, want subject %q and body %q", item, err, subject, body)
	}
}

func TestScctestRemoveCategories(t *testing.T) {
	s, c := newFakeExchange(t, scctest.ImpersonateAll())
	ctx := context.Background()
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")), ews.AnchorMailbox("alice@contoso.example"))

	// No list yet: nothing to remove, nothing written.
	s.ResetRequests()
	removed, err := alice.RemoveCategories(ctx, []string{"CRM"})
	if err != nil || len(removed) != 0 {
		t.Fatalf("RemoveCategories(no list) = %v, %v; want nothing removed", removed, err)
	}
	s.AssertRequestCount(t, "UpdateUserConfiguration", 0)

	if _, err := alice.EnsureCategories(ctx, []ews.Category{{Name: "CRM", Color: ews.CategoryColorBlue}, {Name: "Partner", Color: ews.CategoryColorGreen}}); err != nil {
		t.Fatal(err)
	}
	removed, err = alice.RemoveCategories(ctx, []string{"crm", "Missing"})
	if err != nil || len(removed) != 1 || removed[0].Name != "CRM" || removed[0].Color != ews.CategoryColorBlue {
		t.Fatalf("RemoveCategories(crm) = %+v, %v; want CRM removed", removed, err)
	}
	cats, err := alice.Categories(ctx)
	if err != nil || len(cats) != 1 || cats[0].Name != "Partner" {
		t.Fatalf("Categories after RemoveCategories = %+v, %v; want Partner only", cats, err)
	}

	// Again: one read, no write.
	s.ResetRequests()
	removed, err = alice.RemoveCategories(ctx, []string{"CRM"})
	if err != nil || len(removed) != 0 {
		t.Fatalf("RemoveCategories(again) = %v, %v; want nothing removed", removed, err)
	}
	s.AssertRequestCount(t, "GetUserConfiguration", 1)
	s.AssertRequestCount(t, "UpdateUserConfiguration", 0)
}
