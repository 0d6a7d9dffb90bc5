package scctest

import (
	"testing"

	"github.com/sccsync/scc/ews"
)

func TestUpdateMoveCopyItem(t *testing.T) {
	s := newTestServer(t)
	call := func(body string) resp { t.Helper(); return do(t, s, nil, svcReq(imp(alice), body)) }
	errOf := func(code ews.ResponseCode) want {
		return want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{code}}
	}
	r := call(`<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message><t:Subject>draft</t:Subject><t:Body BodyType="Text">one</t:Body>` +
		`<t:Categories><t:String>Red</t:String></t:Categories></t:Message></m:Items></m:CreateItem>`)
	check(t, r, ok1())
	idn := find(t, r.body, "ItemId")
	id, ck := idn.attrOr("Id", ""), idn.attrOr("ChangeKey", "")
	update := func(cr, ck, updates string) resp {
		return call(`<m:UpdateItem ConflictResolution="` + cr + `" MessageDisposition="SaveOnly"><m:ItemChanges><t:ItemChange><t:ItemId Id="` + id + `" ChangeKey="` + ck + `"/><t:Updates>` +
			updates + `</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`)
	}
	set := `<t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:Message><t:Subject>final</t:Subject></t:Message></t:SetItemField>` +
		`<t:AppendToItemField><t:FieldURI FieldURI="item:Body"/><t:Message><t:Body BodyType="Text"> two</t:Body></t:Message></t:AppendToItemField>` +
		`<t:DeleteItemField><t:FieldURI FieldURI="item:Categories"/></t:DeleteItemField>` +
		`<t:SetItemField>` + tagURI + `<t:Message><t:ExtendedProperty>` + tagURI + `<t:Value>Gemini</t:Value></t:ExtendedProperty></t:Message></t:SetItemField>`
	check(t, update("AutoResolve", "", set), errOf(ews.ErrorChangeKeyRequiredForWriteOperations))
	r = update("AutoResolve", ck, set)
	check(t, r, ok1())
	nck := find(t, r.body, "ItemId").attrOr("ChangeKey", "")
	if nck == ck || textOf(t, r.body, "Count") != "0" {
		t.Errorf("UpdateItem = change key %q (was %q), ConflictResults %q; want a new key and 0 conflicts", nck, ck, textOf(t, r.body, "Count"))
	}
	check(t, update("NeverOverwrite", ck, `<t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:Message><t:Subject>stale</t:Subject></t:Message></t:SetItemField>`), errOf(ews.ErrorIrresolvableConflict))
	check(t, update("AlwaysOverwrite", ck, `<t:SetItemField><t:FieldURI FieldURI="item:Size"/><t:Message><t:Size>1</t:Size></t:Message></t:SetItemField>`), errOf(ews.ErrorInvalidPropertySet))
	r = getAll(t, s, id, "")
	for el, want := range map[string]string{"Subject": "final", "Body": "one two", "Value": "Gemini", "Categories": "<none>"} {
		if got := textOf(t, r.body, el); got != want {
			t.Errorf("after UpdateItem %s = %q, want %q", el, got, want)
		}
	}

	// Move gives a new id; copy a second item; the old id is gone.
	move := func(op, id, to string) resp {
		return call(`<m:` + op + `><m:ToFolderId><t:DistinguishedFolderId Id="` + to + `"/></m:ToFolderId><m:ItemIds><t:ItemId Id="` + id + `"/></m:ItemIds></m:` + op + `>`)
	}
	r = move("MoveItem", id, "inbox")
	check(t, r, ok1())
	moved := find(t, r.body, "ItemId").attrOr("Id", "")
	if moved == id || moved == "" {
		t.Errorf("MoveItem id = %q, want a new one", moved)
	}
	check(t, getAll(t, s, id, ""), errOf(ews.ErrorItemNotFound))
	r = move("CopyItem", moved, "drafts")
	check(t, r, ok1())
	cp := find(t, r.body, "ItemId").attrOr("Id", "")
	if cp == moved || textOf(t, getAll(t, s, cp, "").body, "Value") != "Gemini" {
		t.Errorf("CopyItem = %q, want a new item with the extended property", cp)
	}
	check(t, move("MoveItem", id, "inbox"), errOf(ews.ErrorItemNotFound))
	if in, _ := s.Items(alice, "inbox"); len(in) != 1 || in[0].Subject != "final" {
		t.Errorf("inbox after move = %+v, want the updated message", in)
	}
}
