package scctest_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// ewsAlice starts a server with alice, impersonated by a service account,
// and returns our ews client acting as alice.
func ewsAlice(t *testing.T, opts ...scctest.Option) (*scctest.Server, *ews.Client) {
	t.Helper()
	s := scctest.NewServer(t, opts...)
	if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: "alice@contoso.example"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddServiceAccount(`CONTOSO\svc-sync`, "Passw0rd!", scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	c, err := ews.NewClient(s.EWSURL(), ews.WithBasicAuth(`CONTOSO\svc-sync`, "Passw0rd!"), ews.WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	return s, c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
}

// TestAttachmentsWithEWSClient: file and item attachments round-trip
// through CreateAttachment, GetItem, GetAttachment and DeleteAttachment,
// HasAttachments and the parent's change key follow, and the size limit
// is Exchange's error.
func TestAttachmentsWithEWSClient(t *testing.T) {
	ctx := context.Background()
	_, alice := ewsAlice(t, scctest.WithMaxAttachmentSize(1000))
	drafts := ews.DistinguishedFolder(ews.FolderDrafts)
	id, err := alice.CreateMessage(ctx, drafts, ews.Message{Subject: "with files"})
	if err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4 not really\x00\xff")
	resp, err := alice.CreateAttachment(ctx, id, []ews.Attachment{
		{Name: "contract.pdf", ContentType: "application/pdf", Content: pdf},
		{Name: "Original request", Item: &ews.Item{Subject: "Quote request", Body: ews.Body{Type: "Text", Content: "Please quote"}}},
		{Name: "huge.bin", Content: make([]byte, 1001)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Results[0].Err != nil || resp.Results[1].Err != nil {
		t.Fatalf("CreateAttachment errors = %v, %v; want none", resp.Results[0].Err, resp.Results[1].Err)
	}
	if !errors.Is(resp.Results[2].Err, ews.ErrorAttachmentSizeLimitExceeded) {
		t.Errorf("CreateAttachment(1001 bytes, limit 1000) error = %v, want ErrorAttachmentSizeLimitExceeded", resp.Results[2].Err)
	}
	fileID, itemID := resp.Results[0].Attachment.AttachmentID, resp.Results[1].Attachment.AttachmentID
	if fileID.RootItemID != id.ID || fileID.RootItemChangeKey == "" || fileID.RootItemChangeKey == id.ChangeKey {
		t.Errorf("AttachmentId = %+v, want RootItemId %s and a new change key", fileID, id.ID)
	}

	withAtts := func() (*ews.Item, error) {
		r, err := alice.GetItem(ctx, &ews.GetItemRequest{ItemIDs: []ews.ItemID{{ID: id.ID}}, Shape: ews.ShapeDefault, AdditionalProperties: []ews.FieldURI{ews.FieldItemAttachments}})
		if err != nil {
			return nil, err
		}
		return &r.Results[0].Item, r.Results[0].Err
	}
	it, err := withAtts()
	if err != nil {
		t.Fatal(err)
	}
	if !it.HasAttachments || len(it.Attachments) != 2 || it.Attachments[0].Name != "contract.pdf" || it.Attachments[1].Kind != ews.AttachmentItem {
		t.Errorf("GetItem: HasAttachments %v, Attachments %+v; want true and the two", it.HasAttachments, it.Attachments)
	}

	got, err := alice.GetAttachment(ctx, &ews.GetAttachmentRequest{AttachmentIDs: []ews.AttachmentID{fileID, itemID, {ID: "AAMkbogus"}}})
	if err != nil {
		t.Fatal(err)
	}
	if f := got.Results[0].Attachment; got.Results[0].Err != nil || !bytes.Equal(f.Content, pdf) || f.ContentType != "application/pdf" || f.Size != len(pdf) {
		t.Errorf("GetAttachment(file) = %+v, %v; want the PDF bytes", f, got.Results[0].Err)
	}
	if a := got.Results[1].Attachment; got.Results[1].Err != nil || a.Item == nil || a.Item.Subject != "Quote request" || a.Item.Body.Content != "Please quote" {
		t.Errorf("GetAttachment(item) = %+v, %v; want the attached message", a, got.Results[1].Err)
	}
	if got.Results[2].Err == nil {
		t.Errorf("GetAttachment(bogus id) succeeded, want an error")
	}

	del, err := alice.DeleteAttachment(ctx, []ews.AttachmentID{fileID, itemID})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range del.Results {
		if r.Err != nil {
			t.Errorf("DeleteAttachment[%d] error = %v", i, r.Err)
		}
	}
	if it, err := withAtts(); err != nil || it.HasAttachments || len(it.Attachments) != 0 {
		t.Errorf("after DeleteAttachment: HasAttachments %v, %d attachments, %v; want false, 0", it.HasAttachments, len(it.Attachments), err)
	}
	again, err := alice.DeleteAttachment(ctx, []ews.AttachmentID{fileID})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(again.Results[0].Err, ews.ErrorInvalidAttachmentId) {
		t.Errorf("DeleteAttachment(deleted) error = %v, want ErrorInvalidAttachmentId", again.Results[0].Err)
	}
}
