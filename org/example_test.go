package org_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sccsync/scc/org"
)

func ExampleOrganization_Validate() {
	o := &org.Organization{
		Name:    "Contoso",
		Domains: []string{"contoso.com"},
		Users: []org.User{
			{PrimarySMTP: "anna@contoso.com"},
			{PrimarySMTP: "Anna@Contoso.com"},
			{PrimarySMTP: "bob.contoso.com"},
		},
		Email: org.EmailConfiguration{
			AccessType:   org.Impersonation,
			AccountLogon: "svc-sync",
			EWSURL:       "http://mail.contoso.com/owa",
		},
	}
	err := o.Validate()
	var problems org.ValidationErrors
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Printf("%s: %s\n", p.Field, p.Problem)
		}
	}
	// Output:
	// EWS URL: "http://mail.contoso.com/owa" uses plain http, which sends credentials and mail unencrypted.
	// EWS URL: "http://mail.contoso.com/owa" does not end in /EWS/Exchange.asmx.
	// Account Logon: "svc-sync" has neither a domain nor an @.
	// Password: is empty.
	// Users row 2: Anna@Contoso.com is listed twice (also row 1).
	// Users row 3: primary SMTP address: "bob.contoso.com" has no @.
}

func ExampleEmailConfiguration_Validate_exchangeOnline() {
	c := org.EmailConfiguration{
		AccessType:   org.Impersonation,
		AccountLogon: "svc-sync@contoso.onmicrosoft.com",
		Password:     org.NewSecret("correct horse battery staple"),
		EWSURL:       "https://outlook.office365.com/EWS/Exchange.asmx",
	}
	err := c.Validate()
	fmt.Println(errors.Is(err, org.ErrImpersonationRetired))
	// Output:
	// true
}

func ExampleOrganization_ImportCSV() {
	// Get-Mailbox | Select-Object DisplayName,PrimarySmtpAddress,Sid | Export-Csv users.csv
	csv := `#TYPE Selected.Microsoft.Exchange.Data.Directory.Management.Mailbox
"DisplayName","PrimarySmtpAddress","Sid"
"Anna Smith","anna@contoso.com","S-1-5-21-1493619105-1843311271-3936346804-1118"
"Bob","bob@contoso","S-1-5-21-1493619105-1843311271-3936346804-1119"
"Anna Smith","ANNA@contoso.com",""
"Jörg","jörg@bücher.example",""
`
	o := &org.Organization{Name: "Contoso"}
	res, err := o.ImportCSV(strings.NewReader(csv))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res)
	for _, r := range res.Rejected {
		fmt.Printf("line %d: %s\n", r.Line, r.Reason)
	}
	for _, u := range o.Users {
		id := u.ImpersonationIdentity()
		fmt.Printf("%s impersonated by %s\n", u.PrimarySMTP, id.Kind)
	}
	// Output:
	// added 2, updated 0, skipped 1, rejected 1
	// line 4: primary SMTP address: "bob@contoso": "contoso" is not a full domain name (like contoso.com)
	// anna@contoso.com impersonated by SID
	// jörg@bücher.example impersonated by PrimarySMTP
}

func ExampleOpenFileStore() {
	dir, err := os.MkdirTemp("", "scc-org-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	// The application keeps this key outside the store, e.g. in a secret manager.
	key, err := org.NewFileStoreKey()
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	store, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: key})
	if err != nil {
		fmt.Println(err)
		return
	}
	created, err := store.Create(ctx, &org.Organization{
		ID:   "contoso",
		Name: "Contoso",
		Email: org.EmailConfiguration{
			AccountLogon: `CONTOSO\svc-sync`,
			Password:     org.NewSecret("correct horse battery staple"),
			EWSURL:       "https://mail.contoso.com/EWS/Exchange.asmx",
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("created version", created.Version)

	// Two admins edit at once: the second save is refused, not lost.
	a, _ := store.Get(ctx, "contoso")
	b, _ := store.Get(ctx, "contoso")
	a.Name = "Contoso Ltd"
	if _, err := store.Update(ctx, a); err != nil {
		fmt.Println(err)
	}
	b.Name = "Contoso GmbH"
	_, err = store.Update(ctx, b)
	fmt.Println("second save conflicts:", errors.Is(err, org.ErrConflict))

	// A restarted process reads it back, password decrypted.
	reopened, _ := org.OpenFileStore(dir, org.FileStoreOptions{Key: key})
	got, _ := reopened.Get(ctx, "contoso")
	fmt.Println(got.Name, got.Version, got.Email.Password, len(got.Email.Password.Reveal()))

	// The wrong key is refused before anything is touched.
	other, _ := org.NewFileStoreKey()
	_, err = org.OpenFileStore(dir, org.FileStoreOptions{Key: other})
	fmt.Println(errors.Is(err, org.ErrWrongKey))
	// Output:
	// created version 1
	// second save conflicts: true
	// Contoso Ltd 2 [redacted] 28
	// true
}

func ExampleModify() {
	ctx := context.Background()
	store := org.NewMemoryStore()
	o, _ := store.Create(ctx, &org.Organization{Name: "Contoso", Users: []org.User{{PrimarySMTP: "anna@contoso.com"}}})

	// Record a check result; retried automatically if someone saved meanwhile.
	fp := org.ConfigFingerprint(store, o.Email)
	saved, err := org.Modify(ctx, store, o.ID, func(o *org.Organization) error {
		i := o.UserByAddress("anna@contoso.com")
		if i < 0 {
			return errors.New("anna was removed")
		}
		o.Users[i].Sync = org.SyncState{Status: org.Active, ConfigFingerprint: fp}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(saved.Users[0].Sync.Status, saved.Version)
	// Output:
	// Active 2
}

// A file store key is made once, kept in a secret manager or an environment
// variable in its encoded form, and read back on every start.
func ExampleNewFileStoreKey() {
	key, err := org.NewFileStoreKey()
	if err != nil {
		panic(err)
	}
	encoded := key.Encode() // e.g. SCC_STORE_KEY=<encoded>; openssl rand -base64 32 makes one too

	// On start: key, err := org.ParseFileStoreKey(os.Getenv("SCC_STORE_KEY"))
	back, err := org.ParseFileStoreKey(encoded)
	if err != nil {
		panic(err)
	}
	dir, _ := os.MkdirTemp("", "scc-key-example")
	defer os.RemoveAll(dir)
	if _, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: back}); err != nil {
		panic(err)
	}
	fmt.Println(len(encoded), back.Encode() == encoded)
	fmt.Printf("%v %+v\n", key, org.FileStoreOptions{Key: key})
	// Output:
	// 44 true
	// [redacted] {Key:[redacted]}
}

func ExampleDefaultProvisioningPlan() {
	o := &org.Organization{Name: "Contoso", Provisioning: org.DefaultProvisioningPlan("CRM")}
	o.Provisioning.Folders[2].DisplayName = "CRM Mail" // names are the admin's to choose
	o.Provisioning.Categories = append(o.Provisioning.Categories, org.PlannedCategory{Name: "crm", Color: 99})
	for _, f := range o.Provisioning.Folders {
		fmt.Printf("%s: %q (%s) in %s\n", f.Key, f.DisplayName, f.FolderClass, f.Parent)
	}
	var problems org.ValidationErrors
	if errors.As(o.Provisioning.Validate(), &problems) { // o.Validate reports these too
		for _, p := range problems {
			fmt.Println(p.Field+":", p.Problem)
		}
	}
	// Output:
	// contacts: "CRM Contacts" (IPF.Contact) in contacts
	// tasks: "CRM Tasks" (IPF.Task) in tasks
	// mail: "CRM Mail" (IPF.Note) in msgfolderroot
	// Provisioning Categories row 2: is the category "crm" of row 1 (names compare without regard to case).
	// Provisioning Categories row 2: has the colour 99.
}
