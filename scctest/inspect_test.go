package scctest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// TestFoldersAndUserConfigurationDirect: what a client created through EWS
// (a folder with an extended property, the master category list) is seen
// through the direct API, without the wire.
func TestFoldersAndUserConfigurationDirect(t *testing.T) {
	ctx := context.Background()
	s, alice := ewsAlice(t)
	const addr = "alice@contoso.example"
	marker := ews.ExtendedFieldURI{PropertySetID: "6C0E3A51-2B8F-4D5E-9A47-5F1D3C8E2B90", PropertyName: "owner", PropertyType: ews.PropertyString}
	resp, err := alice.CreateFolder(ctx, &ews.CreateFolderRequest{
		ParentFolderID: ews.DistinguishedFolder(ews.FolderMsgFolderRoot),
		Folders: []ews.Folder{{Kind: ews.FolderKindFolder, FolderClass: "IPF.Note", DisplayName: "CRM",
			ExtendedProperties: []ews.ExtendedProperty{{Field: marker, Value: "contoso"}}}}})
	if err != nil || resp.Results[0].Err != nil {
		t.Fatalf("CreateFolder = %v, %v", resp, err)
	}
	if _, err := alice.EnsureCategories(ctx, []ews.Category{{Name: "CRM", Color: 7}}); err != nil {
		t.Fatal(err)
	}

	kids, err := s.Folders(addr, "msgfolderroot")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := s.FolderID(addr, "msgfolderroot")
	var crm []scctest.Folder
	for _, f := range kids {
		if f.DisplayName == "CRM" {
			crm = append(crm, f)
		}
		if f.ParentID != root {
			t.Errorf("Folders(msgfolderroot) lists %q with parent %q, want %q", f.DisplayName, f.ParentID, root)
		}
	}
	if len(crm) != 1 {
		t.Fatalf("Folders(msgfolderroot) has %d folders CRM, want 1: %+v", len(crm), kids)
	}
	want := scctest.Folder{ID: resp.Results[0].Folder.FolderID.ID, ParentID: root, DisplayName: "CRM", FolderClass: "IPF.Note",
		ExtendedProperties: []scctest.ExtendedProperty{{PropertySetID: "6c0e3a51-2b8f-4d5e-9a47-5f1d3c8e2b90", PropertyName: "owner", PropertyType: "String", Values: []string{"contoso"}}}}
	crm[0].ChangeKey = ""
	if d := cmp.Diff(want, crm[0]); d != "" {
		t.Errorf("Folders() CRM (-want +got):\n%s", d)
	}
	if inbox, _ := s.Folders(addr, "msgfolderroot"); inbox[0].Distinguished != "inbox" {
		t.Errorf("first child of msgfolderroot = %+v, want the inbox", inbox[0])
	}

	uc, err := s.UserConfiguration(addr, "calendar", "CategoryList")
	if err != nil {
		t.Fatal(err)
	}
	l, err := ews.ParseCategoryList(uc.XMLData)
	if err != nil {
		t.Fatal(err)
	}
	if cats := l.Categories(); len(cats) != 1 || cats[0].Name != "CRM" || cats[0].Color != 7 {
		t.Errorf("UserConfiguration(CategoryList) categories = %+v, want CRM blue", cats)
	}

	for _, tt := range []struct {
		name string
		err  error
	}{
		{"unknown mailbox", func() error { _, err := s.Folders("nobody@contoso.example", "inbox"); return err }()},
		{"unknown folder", func() error { _, err := s.Folders(addr, "nosuchfolder"); return err }()},
		{"no configuration", func() error { _, err := s.UserConfiguration(addr, "inbox", "CategoryList"); return err }()},
	} {
		if !errors.Is(tt.err, scctest.ErrNotFound) {
			t.Errorf("%s: error = %v, want ErrNotFound", tt.name, tt.err)
		}
	}
}
