package ews_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/sccsync/scc/ews"
)

// crmID is the extended property a sync engine keeps its record id in: one
// property set GUID per application, never changed.
var crmID = ews.ExtendedFieldURI{PropertySetID: "39717984-7536-4d32-bf68-76afadbfe15c", PropertyName: "CrmRecordId", PropertyType: ews.PropertyString}

// Creating the folders of an application under the top of the mailbox; a
// folder that exists already comes back as ErrorFolderExists.
func ExampleClient_CreateFolder() {
	var c *ews.Client // from ews.NewClient
	ctx := context.Background()
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.com")))
	resp, err := alice.CreateFolder(ctx, &ews.CreateFolderRequest{
		ParentFolderID: ews.DistinguishedFolder(ews.FolderMsgFolderRoot),
		Folders: []ews.Folder{
			{Kind: ews.FolderKindContactsFolder, DisplayName: "CRM Contacts"},
			{Kind: ews.FolderKindTasksFolder, DisplayName: "CRM Tasks"},
			{DisplayName: "CRM Leads", FolderClass: "IPF.Contact.CRM"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range resp.Results {
		switch {
		case errors.Is(r.Err, ews.ErrorFolderExists):
			// Look it up with FindFolder and a DisplayName restriction.
		case r.Err != nil:
			log.Print(r.Err)
		default:
			fmt.Println(r.Folder.Kind, r.Folder.FolderID.ID)
		}
	}
}

// Creating a contact that carries the CRM record id from the start.
func ExampleClient_CreateItemIn() {
	var c *ews.Client
	ctx := context.Background()
	id, err := c.CreateItemIn(ctx, ews.DistinguishedFolder(ews.FolderContacts), ews.Item{
		Categories:         []string{"Customer"},
		ExtendedProperties: []ews.ExtendedProperty{{Field: crmID, Value: "contact-000042"}},
		Contact: &ews.Contact{
			GivenName: "Ada", Surname: "Ng", CompanyName: "Fabrikam", JobTitle: "CTO",
			EmailAddresses: []ews.EmailAddressEntry{{Key: "EmailAddress1", Address: "ada@fabrikam.example"}},
			PhoneNumbers:   []ews.PhoneNumberEntry{{Key: "MobilePhone", Number: "+1 555 0101"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.ID)
}

// Finding the item a CRM record maps to: 0 hits = not synced, 1 = mapped,
// 2 = a duplicate (a user copied the item).
func ExampleClient_FindItem_externalID() {
	var c *ews.Client
	ctx := context.Background()
	resp, err := c.FindItem(ctx, &ews.FindItemRequest{
		ParentFolderIDs:    []ews.FolderID{ews.DistinguishedFolder(ews.FolderContacts)},
		ExtendedProperties: []ews.ExtendedFieldURI{crmID},
		Page:               &ews.PageView{MaxEntries: 2},
		Restriction:        ews.Equal(crmID, "contact-000042"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(resp.Results[0].Items))
}

// A restriction over item fields and an extended property, newest first.
func ExampleAnd() {
	var c *ews.Client
	since := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	_, err := c.FindItem(context.Background(), &ews.FindItemRequest{
		ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)},
		Restriction: ews.And(
			ews.GreaterOrEqual(ews.FieldItemLastModifiedTime, since),
			ews.Or(ews.Contains(ews.FieldItemSubject, "invoice", ews.Substring, ews.IgnoreCase),
				ews.Equal(ews.FieldItemCategories, "CRM")),
			ews.Not(ews.Exists(crmID))),
		SortOrder: []ews.FieldOrder{{Path: ews.FieldItemLastModifiedTime, Descending: true}},
	})
	if err != nil {
		log.Fatal(err)
	}
}

// Updating a contact: a field, one e-mail address of three, the categories
// and the CRM id, guarded by the ChangeKey that was read.
func ExampleClient_UpdateItem() {
	var c *ews.Client
	ctx := context.Background()
	resp, err := c.UpdateItem(ctx, &ews.UpdateItemRequest{
		ConflictResolution: ews.NeverOverwrite,
		Changes: []ews.ItemChange{{
			ItemID: ews.ItemID{ID: "AAMkIcon1=", ChangeKey: "EQAAABYA"},
			Kind:   ews.KindContact,
			Updates: []ews.ItemUpdate{
				ews.SetItemField(ews.FieldContactJobTitle, ews.Item{Contact: &ews.Contact{JobTitle: "CEO"}}),
				ews.SetItemField(ews.IndexedFieldURI{FieldURI: ews.FieldContactEmailAddress, FieldIndex: "EmailAddress2"},
					ews.Item{Contact: &ews.Contact{EmailAddresses: []ews.EmailAddressEntry{{Key: "EmailAddress2", Address: "ada@home.example"}}}}),
				ews.DeleteItemField(ews.IndexedFieldURI{FieldURI: ews.FieldContactPhoneNumber, FieldIndex: "MobilePhone"}),
				ews.SetItemField(ews.FieldItemCategories, ews.Item{Categories: []string{"Customer", "VIP"}}),
				ews.SetExtendedProperty(ews.ExtendedProperty{Field: crmID, Value: "contact-000042"}),
			},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	r := resp.Results[0]
	if ews.IsConflict(r.Err) {
		// Someone changed the contact since: get it again and merge.
		return
	}
	fmt.Println(r.ItemID.ChangeKey) // store the new ChangeKey
}

// A weekly meeting in a calendar, saved without sending invitations.
func ExampleRecurrence() {
	var c *ews.Client
	start := time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)
	_, err := c.CreateItemIn(context.Background(), ews.DistinguishedFolder(ews.FolderCalendar), ews.Item{
		Subject: "Quarterly review",
		Calendar: &ews.CalendarItem{
			Start: start, End: start.Add(time.Hour), Location: "Room 4",
			RequiredAttendees: []ews.Attendee{{Mailbox: ews.Mailbox{Name: "Bob", EmailAddress: "bob@contoso.example"}}},
			Recurrence: &ews.Recurrence{Pattern: ews.RecurWeekly, Interval: 1, DaysOfWeek: []string{"Monday"},
				StartDate: start, NumberOfOccurrences: 10},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
}

// Attaching a file to an item; the parent's new ChangeKey comes back in the
// attachment id.
func ExampleClient_CreateAttachment() {
	var c *ews.Client
	resp, err := c.CreateAttachment(context.Background(), ews.ItemID{ID: "AAMkIcon1="}, []ews.Attachment{
		{Name: "contract.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4\n")},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Results[0].Attachment.AttachmentID.RootItemChangeKey)
}

// Giving the categories a sync engine sets their colour in Outlook.
func ExampleClient_EnsureCategories() {
	var c *ews.Client
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.com")))
	added, err := alice.EnsureCategories(context.Background(), []ews.Category{
		{Name: "CRM", Color: ews.CategoryColorBlue},
		{Name: "Customer", Color: ews.CategoryColorGreen},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(added), "categories added")
}
