package ews_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

func restrictionCases() []opCase {
	return []opCase{
		{"finditem-restricted", "finditem-restricted.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.FindItem(ctx, &ews.FindItemRequest{
				ParentFolderIDs:    []ews.FolderID{{ID: "AAMkFcon="}},
				ExtendedProperties: []ews.ExtendedFieldURI{crmRecordID},
				IndexedProperties:  []ews.IndexedFieldURI{{FieldURI: ews.FieldContactEmailAddress, FieldIndex: "EmailAddress1"}},
				Page:               &ews.PageView{MaxEntries: 100},
				Restriction: ews.And(
					ews.GreaterOrEqual(ews.FieldItemLastModifiedTime, date("2024-06-01T00:00:00Z")),
					ews.Or(
						ews.Contains(ews.FieldItemSubject, "invoice", ews.Substring, ews.IgnoreCase),
						ews.Equal(ews.FieldItemCategories, "CRM"),
						ews.Equal(ews.IndexedFieldURI{FieldURI: ews.FieldContactEmailAddress, FieldIndex: "EmailAddress1"}, "ada@fabrikam.example"),
					),
					ews.Not(ews.Exists(ews.ExtendedFieldURI{PropertySetID: crmSet, PropertyName: "CrmSyncHash", PropertyType: ews.PropertyBinary})),
					ews.Contains(crmRecordID, "contact-000042", ews.FullString, ews.Exact),
					ews.NotEqual(ews.FieldItemImportance, ews.ImportanceLow),
					ews.Equal(ews.FieldMessageIsRead, false),
					ews.Less(ews.FieldItemSize, 1<<20),
					ews.LessOrEqual(ews.FieldTaskPercentComplete, 99.5),
					ews.Greater(ews.FieldItemLastModifiedTime, ews.FieldItemDateTimeCreated),
					ews.Excludes(ews.ExtendedFieldURI{PropertyTag: "0x0E07", PropertyType: ews.PropertyInteger}, 0x1),
				),
				SortOrder: []ews.FieldOrder{{Path: ews.FieldItemLastModifiedTime, Descending: true}, {Path: crmRecordID}},
			})
			must(t, err)
			items := resp.Results[0].Items
			if len(items) != 1 {
				t.Fatalf("FindItem items = %+v, want 1", items)
			}
			if p, ok := items[0].ExtendedProperty(crmRecordID); !ok || p.Value != "contact-000042" {
				t.Errorf("ExtendedProperty(CrmRecordId) = %+v, %v; want contact-000042", p, ok)
			}
		}},
		{"findfolder-by-name", "findfolder-restricted.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.FindFolder(ctx, &ews.FindFolderRequest{
				ParentFolderIDs:      []ews.FolderID{ews.DistinguishedFolder(ews.FolderMsgFolderRoot)},
				Traversal:            ews.FolderDeep,
				AdditionalProperties: []ews.FieldURI{ews.FieldFolderDisplayName, ews.FieldFolderClass},
				Restriction: ews.Or(ews.Equal(ews.FieldFolderDisplayName, "CRM Contacts"),
					ews.Contains(ews.FieldFolderClass, "IPF.Contact", ews.Prefixed, ews.IgnoreCase)),
			})
			must(t, err)
			if fs := resp.Results[0].Folders; len(fs) != 1 || fs[0].DisplayName != "CRM Contacts" {
				t.Errorf("FindFolder folders = %+v, want CRM Contacts", fs)
			}
		}},
	}
}

func TestRestrictionRefused(t *testing.T) {
	big := make([]ews.Restriction, ews.MaxRestrictionNodes)
	for i := range big {
		big[i] = ews.Exists(ews.FieldItemSubject)
	}
	deep := ews.Exists(ews.FieldItemSubject)
	for range 10000 {
		deep = ews.Not(deep)
	}
	tests := []struct {
		name string
		r    ews.Restriction
		sort []ews.FieldOrder
		want string
	}{
		{"too many nodes", ews.And(big...), nil, "more than 255 nodes"},
		{"too deep", deep, nil, "more than 255 nodes"},
		{"empty and", ews.And(), nil, "And needs at least one"},
		{"nil inside", ews.Or(ews.Exists(ews.FieldItemSubject), nil), nil, "nil restriction"},
		{"nil path", ews.Exists(nil), nil, "Exists has no path"},
		{"constant type", ews.Equal(ews.FieldItemSubject, []string{"x"}), nil, "constant of type []string"},
		{"nil constant", ews.Equal(ews.FieldItemSubject, nil), nil, "constant of type <nil>"},
		{"bad mode", ews.Contains(ews.FieldItemSubject, "x", "Anywhere", ews.Exact), nil, `ContainmentMode "Anywhere"`},
		{"bad field", ews.Equal(ews.FieldURI("Subject"), "x"), nil, `"Subject" is not a FieldURI`},
		{"bad char", ews.Equal(ews.FieldItemSubject, "a\x00b"), nil, "U+0000"},
		{"sort nil path", nil, []ews.FieldOrder{{}}, "SortOrder[0] has no path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, soapReply(500, nil))
			_, err := newClient(t, f).FindItem(context.Background(), &ews.FindItemRequest{
				ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}, Restriction: tt.r, SortOrder: tt.sort})
			if !errors.Is(err, ews.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("FindItem(%s) = %v, want ErrInvalidRequest mentioning %q", tt.name, err, tt.want)
			}
			if n := len(f.Requests()); n != 0 {
				t.Errorf("FindItem(%s) sent %d requests, want 0", tt.name, n)
			}
		})
	}
	t.Run("calendar view", func(t *testing.T) {
		f := newFakeEWS(t, soapReply(500, nil))
		_, err := newClient(t, f).FindItem(context.Background(), &ews.FindItemRequest{
			ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderCalendar)},
			CalendarView:    &ews.CalendarView{Start: date("2024-06-01T00:00:00Z"), End: date("2024-07-01T00:00:00Z")},
			Restriction:     ews.Exists(ews.FieldItemSubject)})
		if !errors.Is(err, ews.ErrInvalidRequest) || !strings.Contains(err.Error(), "CalendarView") {
			t.Errorf("FindItem(CalendarView + Restriction) = %v, want ErrInvalidRequest", err)
		}
	})
}
