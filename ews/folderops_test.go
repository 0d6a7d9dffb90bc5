package ews_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

// crmSet is the property set GUID of the examples: one GUID per application.
const crmSet = "39717984-7536-4d32-bf68-76afadbfe15c"

var crmRecordID = ews.ExtendedFieldURI{PropertySetID: crmSet, PropertyName: "CrmRecordId", PropertyType: ews.PropertyString}

func folderCases() []opCase {
	root := ews.DistinguishedFolder(ews.FolderMsgFolderRoot)
	role := ews.ExtendedFieldURI{PropertySetID: crmSet, PropertyName: "CrmFolderRole", PropertyType: ews.PropertyString}
	return []opCase{
		{"createfolder", "createfolder.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.CreateFolder(ctx, &ews.CreateFolderRequest{ParentFolderID: root, Folders: []ews.Folder{
				{DisplayName: "CRM Mail", FolderClass: "IPF.Note", ExtendedProperties: []ews.ExtendedProperty{{Field: role, Value: "mail"}}},
				{Kind: ews.FolderKindContactsFolder, DisplayName: "CRM Contacts"},
				{Kind: ews.FolderKindTasksFolder, DisplayName: "CRM Tasks"},
				{Kind: ews.FolderKindCalendarFolder, DisplayName: "CRM Calendar"},
			}})
			must(t, err)
			var got []string
			for _, r := range resp.Results {
				got = append(got, r.Folder.Kind+":"+r.Folder.FolderID.ID+":"+string(r.Code))
			}
			want := []string{"Folder:AAMkFmail=:NoError", ":" + ":ErrorFolderExists", "TasksFolder:AAMkFtask=:NoError", "CalendarFolder:AAMkFcal=:NoError"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("CreateFolder results (-want +got):\n%s", diff)
			}
			if !errors.Is(resp.Results[1].Err, ews.ErrorFolderExists) {
				t.Errorf("CreateFolder Results[1].Err = %v, want ErrorFolderExists", resp.Results[1].Err)
			}
		}},
		{"createfolder-custom-class", "createfolder.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			// A custom class anywhere in the tree: t:Folder with FolderClass.
			_, err := c.CreateFolder(ctx, &ews.CreateFolderRequest{ParentFolderID: ews.FolderID{ID: "AAMkFcon=", ChangeKey: "AwAAAA=="}, Folders: []ews.Folder{
				{DisplayName: "Leads", FolderClass: "IPF.Contact.CRM"},
				{DisplayName: "Archive"},
				{Kind: ews.FolderKindTasksFolder, DisplayName: "Follow-ups"},
				{Kind: ews.FolderKindCalendarFolder, DisplayName: "Visits"},
			}})
			must(t, err)
		}},
		{"findfolder-restricted", "findfolder-restricted.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.FindFolder(ctx, &ews.FindFolderRequest{
				ParentFolderIDs:      []ews.FolderID{root},
				AdditionalProperties: []ews.FieldURI{ews.FieldFolderDisplayName, ews.FieldFolderClass},
				ExtendedProperties:   []ews.ExtendedFieldURI{role, {PropertyTag: "4340", PropertyType: ews.PropertyBoolean}},
				Page:                 &ews.PageView{MaxEntries: 10},
			})
			must(t, err)
			fs := resp.Results[0].Folders
			if len(fs) != 1 || fs[0].DisplayName != "CRM Contacts" || fs[0].Kind != ews.FolderKindContactsFolder {
				t.Fatalf("FindFolder folders = %+v, want the CRM Contacts folder", fs)
			}
			// The server echoes the GUID in upper case and the tag in hex.
			if p, ok := fs[0].ExtendedProperty(role); !ok || p.Value != "contacts" {
				t.Errorf("ExtendedProperty(%v) = %+v, %v; want contacts", role, p, ok)
			}
			if p, ok := fs[0].ExtendedProperty(ews.ExtendedFieldURI{PropertyTag: "4340", PropertyType: ews.PropertyBoolean}); !ok || p.Value != "false" {
				t.Errorf("ExtendedProperty(tag 4340) = %+v, %v; want false", p, ok)
			}
		}},
		{"updatefolder-rename", "updatefolder.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			id, err := c.RenameFolder(ctx, ews.Folder{Kind: ews.FolderKindContactsFolder, FolderID: ews.FolderID{ID: "AAMkFcon=", ChangeKey: "AwAAAA=="}}, "CRM Contacts (archive)")
			must(t, err)
			if want := (ews.FolderID{ID: "AAMkFcon=", ChangeKey: "AwAAAB=="}); id != want {
				t.Errorf("RenameFolder = %+v, want %+v", id, want)
			}
		}},
		{"updatefolder-batch", "updatefolder-batch.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.UpdateFolder(ctx, &ews.UpdateFolderRequest{Changes: []ews.FolderChange{
				{FolderID: ews.FolderID{ID: "AAMkFmail=", ChangeKey: "AQAAAA=="}, Updates: []ews.FolderUpdate{
					{Action: ews.ActionSet, Path: role, Folder: ews.Folder{ExtendedProperties: []ews.ExtendedProperty{{Field: role, Value: "archive"}, {Field: crmRecordID, Value: "not sent"}}}},
					{Action: ews.ActionSet, Path: ews.FieldFolderClass, Folder: ews.Folder{FolderClass: "IPF.Note.CRM"}},
				}},
				{FolderID: ews.FolderID{ID: "AAMkFcon=", ChangeKey: "bad"}, Updates: []ews.FolderUpdate{
					{Action: ews.ActionDelete, Path: role},
				}},
			}})
			must(t, err)
			if r := resp.Results[0]; r.Err != nil || r.Folder.FolderID.ChangeKey != "AQAAAC==" {
				t.Errorf("UpdateFolder Results[0] = %+v, want the new change key AQAAAC==", r)
			}
			if !errors.Is(resp.Results[1].Err, ews.ErrorInvalidChangeKey) {
				t.Errorf("UpdateFolder Results[1].Err = %v, want ErrorInvalidChangeKey", resp.Results[1].Err)
			}
		}},
		{"movefolder", "movefolder.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.MoveFolder(ctx, &ews.MoveFolderRequest{ToFolderID: ews.FolderID{ID: "AAMkFarch="},
				FolderIDs: []ews.FolderID{{ID: "AAMkFcon="}, ews.DistinguishedFolder(ews.FolderInbox)}})
			must(t, err)
			if r := resp.Results[0]; r.Err != nil || r.Folder.FolderID.ID != "AAMkFcon=" {
				t.Errorf("MoveFolder Results[0] = %+v, want the folder with its id kept", r)
			}
			if !errors.Is(resp.Results[1].Err, ews.ErrorMoveDistinguishedFolder) {
				t.Errorf("MoveFolder Results[1].Err = %v, want ErrorMoveDistinguishedFolder", resp.Results[1].Err)
			}
		}},
		{"copyfolder", "copyfolder.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.CopyFolder(ctx, &ews.MoveFolderRequest{ToFolderID: root, FolderIDs: []ews.FolderID{{ID: "AAMkFmail="}}})
			must(t, err)
			if r := resp.Results[0]; r.Folder.FolderID.ID != "AAMkFcopy=" {
				t.Errorf("CopyFolder Results[0].Folder.FolderID = %+v, want the copy's id", r.Folder.FolderID)
			}
		}},
		{"deletefolder", "deletefolder.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.DeleteFolder(ctx, &ews.DeleteFolderRequest{DeleteType: ews.MoveToDeletedItems,
				FolderIDs: []ews.FolderID{{ID: "AAMkFcon=", ChangeKey: "AwAAAB=="}, {ID: "AAMkFgone="}}})
			must(t, err)
			if resp.Results[0].Err != nil || !errors.Is(resp.Results[1].Err, ews.ErrorItemNotFound) {
				t.Errorf("DeleteFolder errors = %v, %v; want nil, ErrorItemNotFound", resp.Results[0].Err, resp.Results[1].Err)
			}
		}},
	}
}

// TestFolderRequestsRefused checks that requests Exchange would refuse, or
// that would not be schema-valid, fail before anything is sent, with an
// error naming the problem.
func TestFolderRequestsRefused(t *testing.T) {
	root := ews.DistinguishedFolder(ews.FolderMsgFolderRoot)
	tests := []struct {
		name string
		call func(context.Context, *ews.Client) error
		want string
	}{
		{"class on typed folder", func(ctx context.Context, c *ews.Client) error {
			_, err := c.CreateFolder(ctx, &ews.CreateFolderRequest{ParentFolderID: root, Folders: []ews.Folder{{Kind: ews.FolderKindContactsFolder, DisplayName: "x", FolderClass: "IPF.Contact.CRM"}}})
			return err
		}, "needs Kind Folder"},
		{"no name", func(ctx context.Context, c *ews.Client) error {
			_, err := c.CreateFolder(ctx, &ews.CreateFolderRequest{ParentFolderID: root, Folders: []ews.Folder{{}}})
			return err
		}, "no DisplayName"},
		{"search folder", func(ctx context.Context, c *ews.Client) error {
			_, err := c.CreateFolder(ctx, &ews.CreateFolderRequest{ParentFolderID: root, Folders: []ews.Folder{{Kind: ews.FolderKindSearchFolder, DisplayName: "x"}}})
			return err
		}, `Kind "SearchFolder"`},
		{"update value missing", func(ctx context.Context, c *ews.Client) error {
			_, err := c.UpdateFolder(ctx, &ews.UpdateFolderRequest{Changes: []ews.FolderChange{{FolderID: root, Updates: []ews.FolderUpdate{{Action: ews.ActionSet, Path: ews.FieldFolderTotalCount}}}}})
			return err
		}, "carries no value for folder:TotalCount"},
		{"update action", func(ctx context.Context, c *ews.Client) error {
			_, err := c.UpdateFolder(ctx, &ews.UpdateFolderRequest{Changes: []ews.FolderChange{{FolderID: root, Updates: []ews.FolderUpdate{{Action: "Replace", Path: ews.FieldFolderDisplayName}}}}})
			return err
		}, `Action "Replace"`},
		{"delete type", func(ctx context.Context, c *ews.Client) error {
			_, err := c.DeleteFolder(ctx, &ews.DeleteFolderRequest{FolderIDs: []ews.FolderID{root}})
			return err
		}, "delete type"},
		{"tag in named range", func(ctx context.Context, c *ews.Client) error {
			_, err := c.GetFolder(ctx, &ews.GetFolderRequest{FolderIDs: []ews.FolderID{root}, ExtendedProperties: []ews.ExtendedFieldURI{{PropertyTag: "0x8001", PropertyType: ews.PropertyString}}})
			return err
		}, "outside 0x0001..0x7FFF"},
		{"tag and name", func(ctx context.Context, c *ews.Client) error {
			_, err := c.GetFolder(ctx, &ews.GetFolderRequest{FolderIDs: []ews.FolderID{root}, ExtendedProperties: []ews.ExtendedFieldURI{{PropertyTag: "0x0E07", PropertyName: "x", PropertyType: ews.PropertyString}}})
			return err
		}, "PropertyTag goes alone"},
		{"bad guid", func(ctx context.Context, c *ews.Client) error {
			_, err := c.GetFolder(ctx, &ews.GetFolderRequest{FolderIDs: []ews.FolderID{root}, ExtendedProperties: []ews.ExtendedFieldURI{{PropertySetID: "crm", PropertyName: "x", PropertyType: ews.PropertyString}}})
			return err
		}, "is not a GUID"},
		{"object type", func(ctx context.Context, c *ews.Client) error {
			_, err := c.GetFolder(ctx, &ews.GetFolderRequest{FolderIDs: []ews.FolderID{root}, ExtendedProperties: []ews.ExtendedFieldURI{{PropertySetID: crmSet, PropertyName: "x", PropertyType: "Object"}}})
			return err
		}, `PropertyType "Object"`},
		{"name and id", func(ctx context.Context, c *ews.Client) error {
			_, err := c.GetFolder(ctx, &ews.GetFolderRequest{FolderIDs: []ews.FolderID{root}, ExtendedProperties: []ews.ExtendedFieldURI{{DistinguishedPropertySetID: ews.PropertySetPublicStrings, PropertyName: "x", PropertyID: 5, PropertyType: ews.PropertyString}}})
			return err
		}, "exactly one of PropertyName and PropertyID"},
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

func TestExtendedFieldURISame(t *testing.T) {
	tests := []struct {
		a, b ews.ExtendedFieldURI
		want bool
	}{
		{ews.ExtendedFieldURI{PropertyTag: "4340", PropertyType: ews.PropertyBoolean}, ews.ExtendedFieldURI{PropertyTag: "0x10F4", PropertyType: ews.PropertyBoolean}, true},
		{ews.ExtendedFieldURI{PropertySetID: "00020329-0000-0000-C000-000000000046", PropertyName: "Keywords", PropertyType: ews.PropertyStringArray},
			ews.ExtendedFieldURI{DistinguishedPropertySetID: ews.PropertySetPublicStrings, PropertyName: "Keywords", PropertyType: ews.PropertyStringArray}, true},
		{crmRecordID, ews.ExtendedFieldURI{PropertySetID: strings.ToUpper(crmSet), PropertyName: "CrmRecordId", PropertyType: ews.PropertyString}, true},
		{crmRecordID, ews.ExtendedFieldURI{PropertySetID: crmSet, PropertyName: "CrmRecordId", PropertyType: ews.PropertyInteger}, false},
		{crmRecordID, ews.ExtendedFieldURI{PropertySetID: crmSet, PropertyName: "crmrecordid", PropertyType: ews.PropertyString}, false},
	}
	for _, tt := range tests {
		if got := tt.a.Same(tt.b); got != tt.want {
			t.Errorf("%v.Same(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestEnsureFolder(t *testing.T) {
	ctx := context.Background()
	root := ews.DistinguishedFolder(ews.FolderMsgFolderRoot)
	want := ews.Folder{Kind: ews.FolderKindContactsFolder, DisplayName: "CRM Contacts"}
	for _, tt := range []struct {
		name    string
		replies []string
		created bool
		id      string
	}{
		{"exists", []string{"findfolder-restricted.xml"}, false, "AAMkFcon="},
		{"created", []string{"findfolder-empty.xml", "createfolder-one.xml"}, true, "AAMkFcon="},
		{"lost the race", []string{"findfolder-empty.xml", "createfolder-ErrorFolderExists.xml", "findfolder-restricted.xml"}, false, "AAMkFcon="},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, sequence(t, tt.replies...))
			got, created, err := newClient(t, f).EnsureFolder(ctx, root, want)
			if err != nil || created != tt.created || got.FolderID.ID != tt.id || got.Kind != ews.FolderKindContactsFolder {
				t.Fatalf("EnsureFolder = %+v, %v, %v; want %s created=%v", got, created, err, tt.id, tt.created)
			}
			reqs := f.Requests()
			if len(reqs) != len(tt.replies) {
				t.Errorf("EnsureFolder sent %d requests, want %d", len(reqs), len(tt.replies))
			}
			if !containsBytes(reqs[0].Body, `<t:IsEqualTo><t:FieldURI FieldURI="folder:DisplayName"/><t:FieldURIOrConstant><t:Constant Value="CRM Contacts"/>`) {
				t.Errorf("EnsureFolder's FindFolder has no DisplayName restriction:\n%s", reqs[0].Body)
			}
		})
	}
	t.Run("race without a folder", func(t *testing.T) {
		f := newFakeEWS(t, sequence(t, "findfolder-empty.xml", "createfolder-ErrorFolderExists.xml", "findfolder-empty.xml"))
		_, _, err := newClient(t, f).EnsureFolder(ctx, root, want)
		if !errors.Is(err, ews.ErrorFolderExists) {
			t.Errorf("EnsureFolder = %v, want ErrorFolderExists", err)
		}
	})
}
