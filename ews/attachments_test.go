package ews_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

func attachmentCases() []opCase {
	parent := ews.ItemID{ID: "AAMkIcon1new=", ChangeKey: "EQAAABYD"}
	return []opCase{
		{"createattachment", "createattachment.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.CreateAttachment(ctx, parent, []ews.Attachment{
				{Name: "contract.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4\n")},
				{Name: "Original request", Item: &ews.Item{Subject: "Quote request", Body: ews.Body{Type: ews.BodyText, Content: "Please quote"}}},
			})
			must(t, err)
			want := []ews.AttachmentID{{ID: "AAMkAtt1=", RootItemID: "AAMkIcon1new=", RootItemChangeKey: "EQAAABYE"}, {ID: "AAMkAtt2=", RootItemID: "AAMkIcon1new=", RootItemChangeKey: "EQAAABYF"}}
			var got []ews.AttachmentID
			for _, r := range resp.Results {
				got = append(got, r.Attachment.AttachmentID)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("CreateAttachment ids (-want +got):\n%s", diff)
			}
		}},
		{"getattachment", "getattachment.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.GetAttachment(ctx, &ews.GetAttachmentRequest{BodyType: ews.BodyText,
				// The RootItem fields a response gave are not sent back.
				AttachmentIDs: []ews.AttachmentID{{ID: "AAMkAtt1=", RootItemID: "AAMkIcon1new=", RootItemChangeKey: "EQAAABYE"}, {ID: "AAMkAtt2="}, {ID: "AAMkGone="}}})
			must(t, err)
			file := resp.Results[0].Attachment
			wantFile := ews.Attachment{Kind: ews.AttachmentFile, AttachmentID: ews.AttachmentID{ID: "AAMkAtt1="}, Name: "contract.pdf", ContentType: "application/pdf",
				Size: 9, LastModifiedTime: date("2024-06-04T08:00:00Z"), Content: []byte("%PDF-1.4\n")}
			if diff := cmp.Diff(wantFile, file); diff != "" {
				t.Errorf("GetAttachment file (-want +got):\n%s", diff)
			}
			item := resp.Results[1].Attachment
			if item.Kind != ews.AttachmentItem || item.Item == nil || item.Item.Kind != ews.KindMessage || item.Item.Subject != "Quote request" || item.Item.Body.Content != "Please quote" {
				t.Errorf("GetAttachment item = %+v (item %+v)", item, item.Item)
			}
			if !errors.Is(resp.Results[2].Err, ews.ErrorInvalidAttachmentId) {
				t.Errorf("GetAttachment Results[2].Err = %v, want ErrorInvalidAttachmentId", resp.Results[2].Err)
			}
		}},
		{"deleteattachment", "deleteattachment.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.DeleteAttachment(ctx, []ews.AttachmentID{{ID: "AAMkAtt1="}, {ID: "AAMkGone="}})
			must(t, err)
			if want := (ews.ItemID{ID: "AAMkIcon1new=", ChangeKey: "EQAAABYG"}); resp.Results[0].RootItemID != want {
				t.Errorf("DeleteAttachment RootItemID = %+v, want %+v", resp.Results[0].RootItemID, want)
			}
			if !errors.Is(resp.Results[1].Err, ews.ErrorInvalidAttachmentId) {
				t.Errorf("DeleteAttachment Results[1].Err = %v, want ErrorInvalidAttachmentId", resp.Results[1].Err)
			}
		}},
	}
}

func TestAttachmentRequestsRefused(t *testing.T) {
	parent := ews.ItemID{ID: "AAMkIcon1="}
	tests := []struct {
		name string
		call func(context.Context, *ews.Client) error
		want string
	}{
		{"no name", func(ctx context.Context, c *ews.Client) error {
			_, err := c.CreateAttachment(ctx, parent, []ews.Attachment{{Content: []byte("x")}})
			return err
		}, "has no Name"},
		{"item without item", func(ctx context.Context, c *ews.Client) error {
			_, err := c.CreateAttachment(ctx, parent, []ews.Attachment{{Kind: ews.AttachmentItem, Name: "x"}})
			return err
		}, "without an Item"},
		{"file with item", func(ctx context.Context, c *ews.Client) error {
			_, err := c.CreateAttachment(ctx, parent, []ews.Attachment{{Kind: ews.AttachmentFile, Name: "x", Item: &ews.Item{}}})
			return err
		}, "file attachment with an Item"},
		{"no parent", func(ctx context.Context, c *ews.Client) error {
			_, err := c.CreateAttachment(ctx, ews.ItemID{}, []ews.Attachment{{Name: "x"}})
			return err
		}, "parent item has an empty ID"},
		{"none", func(ctx context.Context, c *ews.Client) error {
			_, err := c.CreateAttachment(ctx, parent, nil)
			return err
		}, "no attachments"},
		{"empty id", func(ctx context.Context, c *ews.Client) error {
			_, err := c.DeleteAttachment(ctx, []ews.AttachmentID{{RootItemID: "x"}})
			return err
		}, "AttachmentIds[0] has an empty ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, soapReply(500, nil))
			err := tt.call(context.Background(), newClient(t, f))
			if !errors.Is(err, ews.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s = %v, want ErrInvalidRequest mentioning %q", tt.name, err, tt.want)
			}
			if n := len(f.Requests()); n != 0 {
				t.Errorf("%s sent %d requests, want 0", tt.name, n)
			}
		})
	}
}
