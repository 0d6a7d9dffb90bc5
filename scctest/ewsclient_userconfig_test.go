package scctest_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

// TestCategoriesWithEWSClient: EnsureCategories creates the master
// category list on the calendar folder, a second call adds only what is
// missing, and Categories reads it back.
func TestCategoriesWithEWSClient(t *testing.T) {
	ctx := context.Background()
	_, alice := ewsAlice(t)
	if cats, err := alice.Categories(ctx); err != nil || len(cats) != 0 {
		t.Fatalf("Categories() of a new mailbox = %v, %v; want none", cats, err)
	}
	added, err := alice.EnsureCategories(ctx, []ews.Category{{Name: "Synced", Color: ews.CategoryColorRed}})
	if err != nil || len(added) != 1 {
		t.Fatalf("EnsureCategories(Synced) = %v, %v; want it added", added, err)
	}
	added, err = alice.EnsureCategories(ctx, []ews.Category{{Name: "synced", Color: ews.CategoryColorRed}, {Name: "Other", Color: ews.CategoryColorOrange}})
	if err != nil || len(added) != 1 || added[0].Name != "Other" {
		t.Fatalf("EnsureCategories(synced, Other) = %v, %v; want only Other added", added, err)
	}
	cats, err := alice.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cats {
		names = append(names, c.Name)
	}
	if d := cmp.Diff([]string{"Synced", "Other"}, names); d != "" {
		t.Errorf("Categories() names (-want +got):\n%s", d)
	}
}

// TestUserConfigurationWithEWSClient: a configuration with a dictionary,
// XML and binary data round-trips; update replaces; delete removes.
func TestUserConfigurationWithEWSClient(t *testing.T) {
	ctx := context.Background()
	_, alice := ewsAlice(t)
	inbox := ews.DistinguishedFolder(ews.FolderInbox)
	uc := &ews.UserConfiguration{Name: "Scc.Settings", FolderID: inbox,
		Dictionary: []ews.DictionaryEntry{
			{Key: ews.DictionaryObject{Type: "String", Values: []string{"mode"}}, Value: &ews.DictionaryObject{Type: "Integer32", Values: []string{"3"}}},
			{Key: ews.DictionaryObject{Type: "String", Values: []string{"tags"}}, Value: &ews.DictionaryObject{Type: "StringArray", Values: []string{"a", "b"}}},
		},
		XMLData: []byte("<settings/>"), BinaryData: []byte{0, 1, 2, 255}}
	if err := alice.CreateUserConfiguration(ctx, uc); err != nil {
		t.Fatal(err)
	}
	if err := alice.CreateUserConfiguration(ctx, uc); !errors.Is(err, ews.ErrorItemSave) {
		t.Errorf("CreateUserConfiguration twice error = %v, want ErrorItemSave", err)
	}
	got, err := alice.GetUserConfiguration(ctx, inbox, "Scc.Settings", ews.ConfigAll)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(uc.Dictionary, got.Dictionary); d != "" || !bytes.Equal(got.XMLData, uc.XMLData) || !bytes.Equal(got.BinaryData, uc.BinaryData) || got.ItemID.ID == "" {
		t.Errorf("GetUserConfiguration = %+v; dictionary diff (-want +got):\n%s", got, d)
	}
	if err := alice.UpdateUserConfiguration(ctx, &ews.UserConfiguration{Name: "Scc.Settings", FolderID: inbox, XMLData: []byte("<v2/>")}); err != nil {
		t.Fatal(err)
	}
	got, err = alice.GetUserConfiguration(ctx, inbox, "Scc.Settings", ews.ConfigAll)
	if err != nil || string(got.XMLData) != "<v2/>" || len(got.Dictionary) != 0 || len(got.BinaryData) != 0 {
		t.Errorf("after UpdateUserConfiguration = %+v, %v; want only the new XmlData", got, err)
	}
	if err := alice.DeleteUserConfiguration(ctx, inbox, "Scc.Settings"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.GetUserConfiguration(ctx, inbox, "Scc.Settings", ews.ConfigAll); !errors.Is(err, ews.ErrorItemNotFound) {
		t.Errorf("GetUserConfiguration after delete error = %v, want ErrorItemNotFound", err)
	}
}
