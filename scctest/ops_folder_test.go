package scctest

import (
	"testing"

	"github.com/sccsync/scc/ews"
)

// createFolderReq is a CreateFolder of one folder element under parent.
func createFolderReq(parent, folder string) string {
	return `<m:CreateFolder><m:ParentFolderId>` + parent + `</m:ParentFolderId><m:Folders>` + folder + `</m:Folders></m:CreateFolder>`
}

func folderIDOf(t *testing.T, r resp) (id, ck string) {
	t.Helper()
	n := find(t, r.body, "FolderId")
	return n.attrOr("Id", ""), n.attrOr("ChangeKey", "")
}

func TestFolderLifecycle(t *testing.T) {
	s := newTestServer(t)
	inbox := `<t:DistinguishedFolderId Id="inbox"/>`
	call := func(body string) resp { t.Helper(); return do(t, s, nil, svcReq(imp(alice), body)) }
	errOf := func(code ews.ResponseCode) want {
		return want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{code}}
	}

	// Every kind of folder, with a class and an extended property.
	r := call(createFolderReq(inbox, `<t:Folder><t:FolderClass>IPF.Note.Project</t:FolderClass><t:DisplayName>Projects</t:DisplayName>`+
		`<t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="Tag" PropertyType="String"/><t:Value>blue</t:Value></t:ExtendedProperty></t:Folder>`))
	check(t, r, ok1())
	projects, _ := folderIDOf(t, r)
	for _, el := range []string{"ContactsFolder", "TasksFolder", "CalendarFolder"} {
		r := call(createFolderReq(`<t:FolderId Id="`+projects+`"/>`, `<t:`+el+`><t:DisplayName>`+el+` of mine</t:DisplayName></t:`+el+`>`))
		check(t, r, ok1())
		if n := findAll(t, r.body, el); len(n) != 1 {
			t.Errorf("CreateFolder(%s) answer has %d %s elements, want 1", el, len(n), el)
		}
	}
	check(t, call(createFolderReq(inbox, `<t:Folder><t:DisplayName>PROJECTS</t:DisplayName></t:Folder>`)), errOf(ews.ErrorFolderExists))
	check(t, call(createFolderReq(inbox, `<t:ContactsFolder><t:FolderClass>IPF.Note</t:FolderClass><t:DisplayName>x</t:DisplayName></t:ContactsFolder>`)), errOf(ews.ErrorNoFolderClassOverride))
	check(t, call(createFolderReq(inbox, `<t:Folder><t:DisplayName>x</t:DisplayName><t:TotalCount>3</t:TotalCount></t:Folder>`)), errOf(ews.ErrorInvalidPropertySet))

	// GetFolder returns what was set: class, name, counts, the extended property.
	get := `<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape><t:AdditionalProperties>` +
		`<t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="Tag" PropertyType="String"/></t:AdditionalProperties></m:FolderShape>` +
		`<m:FolderIds><t:FolderId Id="` + projects + `"/></m:FolderIds></m:GetFolder>`
	r = call(get)
	check(t, r, ok1())
	for field, want := range map[string]string{"DisplayName": "Projects", "FolderClass": "IPF.Note.Project", "ChildFolderCount": "3", "Value": "blue"} {
		if got := find(t, r.body, field).text; got != want {
			t.Errorf("GetFolder(Projects) %s = %q, want %q", field, got, want)
		}
	}
	// A property the fake cannot return is refused, naming it.
	r = call(`<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/></t:AdditionalProperties></m:FolderShape><m:FolderIds><t:FolderId Id="` + projects + `"/></m:FolderIds></m:GetFolder>`)
	check(t, r, errOf(ews.ErrorInvalidPropertyRequest))
	if v := find(t, r.body, "MessageXml").child(nsTypes, "Value"); v == nil || v.attrOr("Name", "") != "FieldURI" || v.text != "item:Subject" {
		t.Errorf("GetFolder(item:Subject) MessageXml value = %+v, want FieldURI item:Subject", v)
	}

	// FindFolder finds the new tree.
	r = call(`<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindFolder>`)
	check(t, r, ok1())
	if got := find(t, r.body, "RootFolder").attrOr("TotalItemsInView", ""); got != "4" {
		t.Errorf("FindFolder(inbox, Deep) TotalItemsInView = %s, want 4", got)
	}

	// Rename with the change key; a stale one is a conflict.
	_, ck := folderIDOf(t, call(get))
	rename := func(ck, name string) string {
		return `<m:UpdateFolder><m:FolderChanges><t:FolderChange><t:FolderId Id="` + projects + `" ChangeKey="` + ck + `"/><t:Updates><t:SetFolderField>` +
			`<t:FieldURI FieldURI="folder:DisplayName"/><t:Folder><t:DisplayName>` + name + `</t:DisplayName></t:Folder></t:SetFolderField></t:Updates></t:FolderChange></m:FolderChanges></m:UpdateFolder>`
	}
	r = call(rename(ck, "Archive 2026"))
	check(t, r, ok1())
	if _, nck := folderIDOf(t, r); nck == ck || nck == "" {
		t.Errorf("UpdateFolder change key = %q, want a new one (was %q)", nck, ck)
	}
	check(t, call(rename(ck, "Again")), errOf(ews.ErrorIrresolvableConflict))
	if got := find(t, call(get).body, "DisplayName").text; got != "Archive 2026" {
		t.Errorf("DisplayName after rename = %q, want Archive 2026", got)
	}

	// Move keeps the id; copy makes a new folder; distinguished folders stay.
	move := func(op, id, to string) resp {
		return call(`<m:` + op + `><m:ToFolderId>` + to + `</m:ToFolderId><m:FolderIds><t:FolderId Id="` + id + `"/></m:FolderIds></m:` + op + `>`)
	}
	r = move("MoveFolder", projects, `<t:DistinguishedFolderId Id="msgfolderroot"/>`)
	check(t, r, ok1())
	if id, _ := folderIDOf(t, r); id != projects {
		t.Errorf("MoveFolder id = %s, want the folder's own %s", id, projects)
	}
	r = move("CopyFolder", projects, `<t:DistinguishedFolderId Id="inbox"/>`)
	check(t, r, ok1())
	cp, _ := folderIDOf(t, r)
	if cp == projects {
		t.Errorf("CopyFolder id = the original's, want a new id")
	}
	inboxID, _ := s.FolderID(alice, "inbox")
	check(t, move("MoveFolder", inboxID, `<t:DistinguishedFolderId Id="drafts"/>`), errOf(ews.ErrorMoveDistinguishedFolder))

	// Delete: the copy for good, the original to Deleted Items; inbox never.
	del := func(dt, id string) resp {
		return call(`<m:DeleteFolder DeleteType="` + dt + `"><m:FolderIds><t:FolderId Id="` + id + `"/></m:FolderIds></m:DeleteFolder>`)
	}
	check(t, del("HardDelete", cp), ok1())
	check(t, call(`<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:FolderId Id="`+cp+`"/></m:FolderIds></m:GetFolder>`), errOf(ews.ErrorFolderNotFound))
	check(t, del("MoveToDeletedItems", projects), ok1())
	check(t, del("HardDelete", inboxID), errOf(ews.ErrorDeleteDistinguishedFolder))
	r = call(`<m:FindFolder Traversal="Shallow"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id="deleteditems"/></m:ParentFolderIds></m:FindFolder>`)
	if got := find(t, r.body, "DisplayName").text; got != "Archive 2026" {
		t.Errorf("Deleted Items holds %q, want the deleted folder", got)
	}
}
