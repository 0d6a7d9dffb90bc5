package scctest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// aliceClient starts a fake with alice's mailbox and returns our ews client
// impersonating her over a real socket.
func aliceClient(t *testing.T) (*scctest.Server, *ews.Client) {
	t.Helper()
	s := scctest.NewServer(t)
	if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: "alice@contoso.example"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddServiceAccount("svc@contoso.example", "Passw0rd!", scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	c, err := ews.NewClient(s.EWSURL(), ews.WithBasicAuth("svc@contoso.example", "Passw0rd!"), ews.WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	return s, c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
}

// TestFoldersWithEWSClient creates, reads back, renames, moves, copies and
// deletes folders with our client.
func TestFoldersWithEWSClient(t *testing.T) {
	ctx := context.Background()
	_, c := aliceClient(t)
	tag := ews.ExtendedFieldURI{PropertySetID: "c11ff724-aa03-4555-9952-8fa248a11c3e", PropertyName: "Tag", PropertyType: "String"}
	root := ews.DistinguishedFolder(ews.FolderMsgFolderRoot)
	cr, err := c.CreateFolder(ctx, &ews.CreateFolderRequest{ParentFolderID: root, Folders: []ews.Folder{
		{DisplayName: "Projects", FolderClass: "IPF.Note", ExtendedProperties: []ews.ExtendedProperty{{Field: tag, Value: "blue"}}},
		{Kind: "ContactsFolder", DisplayName: "Vendors"},
		{Kind: "TasksFolder", DisplayName: "Chores"},
		{Kind: "CalendarFolder", DisplayName: "Rota"},
		{DisplayName: "projects"},
	}})
	if err != nil {
		t.Fatalf("CreateFolder error = %v", err)
	}
	for i, r := range cr.Results[:4] {
		if r.Err != nil {
			t.Fatalf("CreateFolder result %d error = %v", i, r.Err)
		}
	}
	var re *ews.ResponseError
	if err := cr.Results[4].Err; !errors.As(err, &re) || re.Code != ews.ErrorFolderExists {
		t.Errorf("CreateFolder(projects twice) error = %v, want ErrorFolderExists", err)
	}
	projects := cr.Results[0].Folder.FolderID
	got, err := c.GetFolder(ctx, &ews.GetFolderRequest{FolderIDs: []ews.FolderID{projects}, Shape: ews.ShapeAllProperties, ExtendedProperties: []ews.ExtendedFieldURI{tag}})
	if err != nil || len(got.Results) != 1 || got.Results[0].Err != nil {
		t.Fatalf("GetFolder(Projects) = %+v, %v", got, err)
	}
	f := got.Results[0].Folder
	if p, ok := f.ExtendedProperty(tag); f.DisplayName != "Projects" || f.FolderClass != "IPF.Note" || !ok || p.Value != "blue" {
		t.Errorf("GetFolder(Projects) = %+v, want its name, class and Tag blue", f)
	}
	if kinds := []string{cr.Results[1].Folder.Kind, cr.Results[2].Folder.Kind, cr.Results[3].Folder.Kind}; kinds[0] != "ContactsFolder" || kinds[1] != "TasksFolder" || kinds[2] != "CalendarFolder" {
		t.Errorf("created kinds = %v, want ContactsFolder TasksFolder CalendarFolder", kinds)
	}

	renamed, err := c.RenameFolder(ctx, f, "Projects 2026")
	if err != nil {
		t.Fatalf("RenameFolder error = %v", err)
	}
	inbox := ews.DistinguishedFolder(ews.FolderInbox)
	mv, err := c.MoveFolder(ctx, &ews.MoveFolderRequest{ToFolderID: inbox, FolderIDs: []ews.FolderID{renamed}})
	if err != nil || mv.Results[0].Err != nil || mv.Results[0].Folder.FolderID.ID != projects.ID {
		t.Fatalf("MoveFolder = %+v, %v; want the folder under its own id", mv, err)
	}
	cp, err := c.CopyFolder(ctx, &ews.MoveFolderRequest{ToFolderID: root, FolderIDs: []ews.FolderID{{ID: projects.ID}}})
	if err != nil || cp.Results[0].Err != nil || cp.Results[0].Folder.FolderID.ID == projects.ID {
		t.Fatalf("CopyFolder = %+v, %v; want a new folder", cp, err)
	}
	found, err := c.FindFolder(ctx, &ews.FindFolderRequest{ParentFolderIDs: []ews.FolderID{inbox}, Shape: ews.ShapeDefault})
	if err != nil || len(found.Results[0].Folders) != 1 || found.Results[0].Folders[0].DisplayName != "Projects 2026" {
		t.Fatalf("FindFolder(inbox) = %+v, %v; want the renamed folder", found, err)
	}
	del, err := c.DeleteFolder(ctx, &ews.DeleteFolderRequest{FolderIDs: []ews.FolderID{{ID: projects.ID}, cp.Results[0].Folder.FolderID}, DeleteType: ews.HardDelete})
	if err != nil || del.Results[0].Err != nil || del.Results[1].Err != nil {
		t.Fatalf("DeleteFolder = %+v, %v", del, err)
	}
	if _, err := c.Folder(ctx, ews.FolderID{ID: projects.ID}); !errors.As(err, &re) || re.Code != ews.ErrorFolderNotFound {
		t.Errorf("Folder(deleted) error = %v, want ErrorFolderNotFound", err)
	}
}
