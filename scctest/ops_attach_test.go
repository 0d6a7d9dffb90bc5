package scctest

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

// TestAttachmentWire drives the attachment operations with raw requests,
// so that every answer is captured for the schema check, errors included.
func TestAttachmentWire(t *testing.T) {
	s := newTestServer(t, WithMaxAttachmentSize(1000))
	id, err := s.AddItem(alice, "inbox", Message{Subject: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	content := base64.StdEncoding.EncodeToString([]byte("hello"))
	create := `<m:CreateAttachment><m:ParentItemId Id="` + id.ID + `"/><m:Attachments>` +
		`<t:FileAttachment><t:Name>a.txt</t:Name><t:ContentType>text/plain</t:ContentType><t:IsInline>false</t:IsInline><t:Content>` + content + `</t:Content></t:FileAttachment>` +
		`<t:ItemAttachment><t:Name>fwd</t:Name><t:Message><t:Subject>inner</t:Subject><t:Body BodyType="HTML">&lt;b&gt;x&lt;/b&gt;</t:Body><t:Importance>High</t:Importance><t:ToRecipients><t:Mailbox><t:EmailAddress>bob@contoso.example</t:EmailAddress></t:Mailbox></t:ToRecipients><t:InternetMessageId>&lt;m1@x&gt;</t:InternetMessageId></t:Message></t:ItemAttachment>` +
		`<t:FileAttachment><t:Name>big</t:Name><t:Content>` + base64.StdEncoding.EncodeToString(make([]byte, 1001)) + `</t:Content></t:FileAttachment>` +
		`<t:FileAttachment><t:Content>` + content + `</t:Content></t:FileAttachment>` +
		`</m:Attachments></m:CreateAttachment>`
	r := do(t, s, nil, svcReq(imp(alice), create))
	check(t, r, want{status: 200, classes: []string{"Success", "Success", "Error", "Error"}, codes: []ews.ResponseCode{ews.NoError, ews.NoError, ews.ErrorAttachmentSizeLimitExceeded, ews.ErrorInvalidRequest}})
	ids := findAll(t, r.body, "AttachmentId")
	if len(ids) != 2 {
		t.Fatalf("CreateAttachment returned %d AttachmentIds, want 2", len(ids))
	}
	fileID, itemID := ids[0].attrOr("Id", ""), ids[1].attrOr("Id", "")

	r = do(t, s, nil, svcReq(imp(alice), `<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Attachments"/></t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="`+id.ID+`"/></m:ItemIds></m:GetItem>`))
	check(t, r, ok1())
	if h := find(t, r.body, "HasAttachments"); h.trimmed() != "true" || len(findAll(t, r.body, "AttachmentId")) != 2 {
		t.Errorf("GetItem after CreateAttachment: HasAttachments %q, %d attachments; want true, 2", h.trimmed(), len(findAll(t, r.body, "AttachmentId")))
	}

	get := `<m:GetAttachment><m:AttachmentShape><t:BodyType>Text</t:BodyType></m:AttachmentShape><m:AttachmentIds><t:AttachmentId Id="` + fileID + `"/><t:AttachmentId Id="` + itemID + `"/><t:AttachmentId Id="` + id.ID + `"/></m:AttachmentIds></m:GetAttachment>`
	r = do(t, s, nil, svcReq(imp(alice), get))
	check(t, r, want{status: 200, classes: []string{"Success", "Success", "Error"}, codes: []ews.ResponseCode{ews.NoError, ews.NoError, ews.ErrorInvalidAttachmentId}})
	if c := find(t, r.body, "Content"); c.trimmed() != content {
		t.Errorf("GetAttachment Content = %q, want %q", c.trimmed(), content)
	}
	var b *node
	for _, n := range findAll(t, r.body, "Body") {
		if n.name.Space == nsTypes {
			b = n
		}
	}
	if b.attrOr("BodyType", "") != "Text" || strings.Contains(b.text, "<b>") {
		t.Errorf("GetAttachment item Body = %s %q, want the text rendering", b.attrOr("BodyType", ""), b.text)
	}
	if m := find(t, r.body, "InternetMessageId"); m.trimmed() != "<m1@x>" {
		t.Errorf("GetAttachment item InternetMessageId = %q, want the one sent (kept verbatim)", m.trimmed())
	}

	del := `<m:DeleteAttachment><m:AttachmentIds><t:AttachmentId Id="` + fileID + `"/><t:AttachmentId Id="` + fileID + `"/></m:AttachmentIds></m:DeleteAttachment>`
	r = do(t, s, nil, svcReq(imp(alice), del))
	check(t, r, want{status: 200, classes: []string{"Success", "Error"}, codes: []ews.ResponseCode{ews.NoError, ews.ErrorInvalidAttachmentId}})
	if root := find(t, r.body, "RootItemId"); root.attrOr("RootItemId", "") != id.ID {
		t.Errorf("DeleteAttachment RootItemId = %q, want %q", root.attrOr("RootItemId", ""), id.ID)
	}
	// Another mailbox's attachment is refused.
	r = do(t, s, nil, svcReq(imp(bob), `<m:GetAttachment><m:AttachmentIds><t:AttachmentId Id="`+itemID+`"/></m:AttachmentIds></m:GetAttachment>`))
	check(t, r, want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorAccessDenied}})
}
