package mailbox

import (
	"bytes"
	"testing"
)

func TestAttachments(t *testing.T) {
	m := newStore(t, Options{MaxAttachmentSize: 1000, MaxItemSize: 3000}).Mailbox("a@x.example")
	it := mustItem(t, m, "inbox", Item{Subject: "with files"})
	if it.HasAttachments {
		t.Fatalf("new item HasAttachments")
	}
	aid, ck, err := m.AddAttachment(it.ID, Attachment{Name: "contract.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4")})
	if err != nil {
		t.Fatal(err)
	}
	if ck == it.ChangeKey {
		t.Errorf("AddAttachment kept the parent's change key")
	}
	got, _ := m.GetItem(it.ID)
	if !got.HasAttachments || len(got.Attachments) != 1 || got.Attachments[0].ID != aid || got.ChangeKey != ck || got.Size <= it.Size {
		t.Errorf("after AddAttachment: %+v", got)
	}
	a, root, err := m.GetAttachment(aid)
	if err != nil || root != it.ID || !bytes.Equal(a.Content, []byte("%PDF-1.4")) || a.Name != "contract.pdf" {
		t.Errorf("GetAttachment = %+v %q %v", a, root, err)
	}
	// An item attachment, nested.
	inner := Attachment{Name: "inner", Item: &Item{Subject: "inner"}}
	iid, _, err := m.AddAttachment(it.ID, Attachment{Name: "Original request", Item: &Item{Subject: "Quote request", Body: Body{Content: "Please quote"}}, Nested: []Attachment{inner}})
	if err != nil {
		t.Fatal(err)
	}
	ia, _, _ := m.GetAttachment(iid)
	if ia.Item == nil || ia.Item.Subject != "Quote request" || ia.Item.ItemClass != "IPM.Note" || len(ia.Nested) != 1 {
		t.Errorf("item attachment = %+v", ia)
	}

	tests := []struct {
		name string
		a    Attachment
		err  *Error
	}{
		{"no name", Attachment{Content: []byte("x")}, ErrInvalidRequest},
		{"too large", Attachment{Name: "big", Content: make([]byte, 1000)}, ErrAttachmentSizeLimitExceeded},
		{"file and item", Attachment{Name: "x", Content: []byte("x"), Item: &Item{}}, ErrInvalidRequest},
		{"bad item", Attachment{Name: "x", Item: &Item{Importance: "Urgent"}}, ErrInvalidValueForProperty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := m.AddAttachment(it.ID, tc.a)
			wantErr(t, "AddAttachment", err, tc.err)
		})
	}
	big := newMailbox(t)
	bi := mustItem(t, big, "inbox", Item{})
	_, _, err = big.AddAttachment(bi.ID, deep(11))
	wantErr(t, "AddAttachment(11 levels)", err, ErrAttachmentNestLevelExceeded)
	_, _, err = big.AddAttachment(bi.ID, deep(10))
	wantErr(t, "AddAttachment(10 levels)", err, nil)

	// The item limit counts all attachments.
	for i := 0; ; i++ {
		_, _, err := m.AddAttachment(it.ID, Attachment{Name: "f", Content: make([]byte, 900)})
		if err != nil {
			wantErr(t, "AddAttachment past the item limit", err, ErrMessageSizeExceeded)
			break
		}
		if i > 5 {
			t.Fatalf("MaxItemSize not enforced")
		}
	}

	rid, rck, err := m.DeleteAttachment(aid)
	if err != nil || rid != it.ID {
		t.Fatalf("DeleteAttachment = %q %q %v", rid, rck, err)
	}
	_, _, err = m.GetAttachment(aid)
	wantErr(t, "GetAttachment(deleted)", err, ErrInvalidAttachmentID)
	_, _, err = m.DeleteAttachment(aid)
	wantErr(t, "DeleteAttachment(deleted)", err, ErrInvalidAttachmentID)
	_, _, err = m.GetAttachment(it.ID)
	wantErr(t, "GetAttachment(item id)", err, ErrInvalidAttachmentID)
	_, _, err = m.AddAttachment(EncodeID(IDInfo{Kind: KindItemID, Num: 12345}), Attachment{Name: "x"})
	wantErr(t, "AddAttachment(unknown item)", err, ErrItemNotFound)

	// HasAttachments goes back to false with the last one.
	got, _ = m.GetItem(it.ID)
	for _, a := range got.Attachments {
		if _, _, err := m.DeleteAttachment(a.ID); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = m.GetItem(it.ID)
	if got.HasAttachments || got.Size != it.Size {
		t.Errorf("after deleting all: HasAttachments %v Size %d, want false %d", got.HasAttachments, got.Size, it.Size)
	}
	if m.bytes != sizeOfAll(m) {
		t.Errorf("mailbox bytes %d, items add up to %d", m.bytes, sizeOfAll(m))
	}
}

func deep(n int) Attachment {
	a := Attachment{Name: "level", Item: &Item{Subject: "l"}}
	if n > 1 {
		a.Nested = []Attachment{deep(n - 1)}
	}
	return a
}

func TestDefaultSizeLimits(t *testing.T) {
	s := newStore(t, Options{})
	if s.opts.MaxAttachmentSize != 35<<20 || s.opts.MaxItemSize != 36<<20 {
		t.Errorf("defaults %d / %d, want 35 MB / 36 MB", s.opts.MaxAttachmentSize, s.opts.MaxItemSize)
	}
	if _, err := NewStore(Options{MaxItemSize: -1}); err == nil {
		t.Errorf("NewStore accepted a negative limit")
	}
}
