package ews

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// benchBuildParse measures the client's own cost of one impersonated call
// of op without HTTP: resolve options, build the envelope with body,
// interpret the canned response and parse it with parse.
func benchBuildParse(b *testing.B, op *operation, response string, body func(*etree.Element) error, parse func(*soapResponse) error) {
	b.Helper()
	data, err := os.ReadFile("testdata/responses/" + response)
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewClient("https://mail.contoso.example/EWS/Exchange.asmx")
	if err != nil {
		b.Fatal(err)
	}
	alice := c.With(Impersonate(PrimarySmtpAddress("alice@contoso.example")))
	hresp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o, err := alice.resolve(nil)
		if err != nil {
			b.Fatal(err)
		}
		payload, err := buildEnvelope(op, envelopeHeader{version: c.cfg.version, sid: &o.sid}, body)
		if err != nil || len(payload) == 0 {
			b.Fatal(err)
		}
		soap, err := c.interpret(context.Background(), op, hresp, data)
		if err != nil {
			b.Fatal(err)
		}
		if err := parse(soap); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildParseUpdateItem is one UpdateItem of a contact: a given
// name, an indexed e-mail address, categories and an extended property.
func BenchmarkBuildParseUpdateItem(b *testing.B) {
	crm := ExtendedFieldURI{PropertySetID: "39717984-7536-4d32-bf68-76afadbfe15c", PropertyName: "CrmRecordId", PropertyType: PropertyString}
	req := &UpdateItemRequest{Changes: []ItemChange{{ItemID: ItemID{ID: "AAMkIcon1=", ChangeKey: "EQAAABYA"}, Kind: KindContact, Updates: []ItemUpdate{
		SetItemField(FieldContactGivenName, Item{Contact: &Contact{GivenName: "Adah"}}),
		SetItemField(IndexedFieldURI{FieldURI: FieldContactEmailAddress, FieldIndex: "EmailAddress2"},
			Item{Contact: &Contact{EmailAddresses: []EmailAddressEntry{{Key: "EmailAddress2", Address: "adah@home.example"}}}}),
		SetItemField(FieldItemCategories, Item{Categories: []string{"Customer", "VIP"}}),
		SetExtendedProperty(ExtendedProperty{Field: crm, Value: "contact-000042"}),
	}}}}
	benchBuildParse(b, opUpdateItem, "updateitem-one.xml", func(e *etree.Element) error {
		u := e.CreateElement("m:UpdateItem")
		u.CreateAttr("ConflictResolution", string(AutoResolve))
		list := u.CreateElement("m:ItemChanges")
		return req.Changes[0].write("UpdateItem", "Changes[0]", list)
	}, func(soap *soapResponse) error {
		resp, err := parseUpdateItem(soap, opUpdateItem, 1)
		if err == nil && resp.Results[0].ItemID.ChangeKey != "EQAAABYB" {
			b.Fatal("wrong change key")
		}
		return err
	})
}

// BenchmarkBuildParseGetItemContact is one GetItem of a contact with the
// AllProperties shape plus an extended property, parsing every field.
func BenchmarkBuildParseGetItemContact(b *testing.B) {
	crm := ExtendedFieldURI{PropertySetID: "39717984-7536-4d32-bf68-76afadbfe15c", PropertyName: "CrmRecordId", PropertyType: PropertyString}
	ids := []ItemID{{ID: "AAMkIcon1="}}
	benchBuildParse(b, opGetItem, "getitem-contact.xml", func(e *etree.Element) error {
		g := e.CreateElement("m:GetItem")
		if err := writeItemShape("GetItem", g, ShapeAllProperties, false, BodyText, nil, nil, []ExtendedFieldURI{crm}); err != nil {
			return err
		}
		return writeItemIDs("GetItem", g, ids)
	}, func(soap *soapResponse) error {
		resp, err := parseGetItem(soap, 1)
		if err == nil && (resp.Results[0].Item.Contact == nil || resp.Results[0].Item.Contact.Surname != "Ng" || resp.Results[0].Item.Contact.Birthday.Before(time.Unix(0, 0))) {
			b.Fatal("contact not parsed")
		}
		return err
	})
}

// BenchmarkBuildParseGetItemContactDefault is one GetItem of a contact with
// the Default shape plus an extended property: the size of answer a sync
// engine asks for.
func BenchmarkBuildParseGetItemContactDefault(b *testing.B) {
	crm := ExtendedFieldURI{PropertySetID: "39717984-7536-4d32-bf68-76afadbfe15c", PropertyName: "CrmRecordId", PropertyType: PropertyString}
	ids := []ItemID{{ID: "AAMkIcon1="}}
	benchBuildParse(b, opGetItem, "getitem-contact-default.xml", func(e *etree.Element) error {
		g := e.CreateElement("m:GetItem")
		if err := writeItemShape("GetItem", g, ShapeDefault, false, "", nil, nil, []ExtendedFieldURI{crm}); err != nil {
			return err
		}
		return writeItemIDs("GetItem", g, ids)
	}, func(soap *soapResponse) error {
		resp, err := parseGetItem(soap, 1)
		if err == nil && resp.Results[0].Item.Contact.PhoneNumber("MobilePhone") != "+1 555 0101" {
			b.Fatal("contact not parsed")
		}
		return err
	})
}

// BenchmarkParseTreeGetItemContact is the share of the XML tokenizer
// (parseTree, shared by every operation) in BenchmarkBuildParseGetItemContact.
func BenchmarkParseTreeGetItemContact(b *testing.B) {
	data, err := os.ReadFile("testdata/responses/getitem-contact.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := parseTree(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
}
