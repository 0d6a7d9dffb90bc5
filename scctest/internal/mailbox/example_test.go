package mailbox_test

import (
	"errors"
	"fmt"

	"github.com/sccsync/scc/scctest/internal/mailbox"
)

// A sync engine's round trip through the model: create a folder and a
// contact with an external id, find it by that id, and ask what changed.
func Example() {
	store, err := mailbox.NewStore(mailbox.Options{})
	if err != nil {
		panic(err)
	}
	m := store.Mailbox("alice@contoso.example")
	crmID := mailbox.ExtendedFieldURI{PropertySetID: "39717984-7536-4d32-bf68-76afadbfe15c", PropertyName: "CrmRecordId", Type: mailbox.PTString}

	f, _ := m.CreateFolder("msgfolderroot", mailbox.NewFolder{Kind: mailbox.ContactsFolder, DisplayName: "CRM Contacts"})
	_, err = m.CreateFolder("msgfolderroot", mailbox.NewFolder{DisplayName: "crm contacts"})
	fmt.Println(errors.Is(err, mailbox.ErrFolderExists))

	point := m.Seq()
	_, _ = m.CreateItem(f.ID, mailbox.Item{Kind: mailbox.Contact, Subject: "Ada Ng",
		Contact:  &mailbox.ContactFields{GivenName: "Ada", Surname: "Ng"},
		Extended: []mailbox.ExtendedProperty{{URI: crmID, Values: []string{"contact-000042"}}}})

	res, _ := m.FindItems(f.ID, mailbox.Query{Restriction: mailbox.Compare{
		Op: mailbox.IsEqualTo, Path: mailbox.Extended(crmID), Constant: "contact-000042"}})
	fmt.Println(res.Total, res.Items[0].Contact.GivenName)

	changes, _, _, _ := m.ItemChanges(f.ID, point, 0)
	fmt.Println(changes[0].Type, changes[0].Item.Subject)
	// Output:
	// true
	// 1 Ada
	// Create Ada Ng
}
