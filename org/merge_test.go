package org_test

import (
	"fmt"
	"testing"

	"github.com/sccsync/scc/org"
)

func TestMergeSecrets(t *testing.T) {
	stored := org.EmailConfiguration{
		AccessType: org.Impersonation, AccountLogon: `CONTOSO\svc-sync`, Password: org.NewSecret("stored-pw"),
		EWSURL: "https://mail.contoso.com/EWS/Exchange.asmx", TenantID: "t", ClientID: "c",
		ClientSecret: org.NewSecret("stored-cs"), CertificatePEM: "CERT", PrivateKey: org.NewSecret("stored-pk"),
	}
	type want struct{ pw, cs, pk string }
	keepAll := want{"stored-pw", "stored-cs", "stored-pk"}
	for _, tc := range []struct {
		name string
		edit func(c *org.EmailConfiguration)
		want want
	}{
		{"nothing changed", func(c *org.EmailConfiguration) {}, keepAll},
		{"other fields changed", func(c *org.EmailConfiguration) {
			c.ExchangeVersion = "Exchange2016"
			c.AuthMethod = org.AuthNTLM
		}, keepAll},
		{"case and path only", func(c *org.EmailConfiguration) {
			c.AccountLogon = ` contoso\SVC-SYNC `
			c.EWSURL = "HTTPS://Mail.Contoso.COM:443/ews/exchange.asmx"
		}, keepAll},
		{"new password typed", func(c *org.EmailConfiguration) { c.Password = org.NewSecret("typed") }, want{"typed", "stored-cs", "stored-pk"}},
		{"host changed", func(c *org.EmailConfiguration) { c.EWSURL = "https://mail.attacker.example/EWS/Exchange.asmx" }, want{}},
		{"port changed", func(c *org.EmailConfiguration) { c.EWSURL = "https://mail.contoso.com:8443/EWS/Exchange.asmx" }, want{}},
		{"https to http", func(c *org.EmailConfiguration) {
			c.EWSURL = "http://mail.contoso.com/EWS/Exchange.asmx"
			c.AllowInsecureHTTP = true
		}, want{}},
		{"unparsable URL", func(c *org.EmailConfiguration) { c.EWSURL = "mail.contoso.com" }, want{}},
		{"logon changed", func(c *org.EmailConfiguration) { c.AccountLogon = `CONTOSO\other` }, want{"", "stored-cs", "stored-pk"}},
		{"access type changed", func(c *org.EmailConfiguration) { c.AccessType = org.DirectLogon }, want{}},
		{"client changed", func(c *org.EmailConfiguration) { c.ClientID = "other" }, want{"stored-pw", "", ""}},
		{"tenant changed", func(c *org.EmailConfiguration) { c.TenantID = "other" }, want{"stored-pw", "", ""}},
		{"certificate changed", func(c *org.EmailConfiguration) { c.CertificatePEM = "OTHER" }, want{"stored-pw", "stored-cs", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// What the panel gets back: the fields, edited; secrets empty.
			edited := stored
			edited.Password, edited.ClientSecret, edited.PrivateKey = org.Secret{}, org.Secret{}, org.Secret{}
			tc.edit(&edited)
			got := edited.MergeSecrets(stored)
			if g := (want{got.Password.Reveal(), got.ClientSecret.Reveal(), got.PrivateKey.Reveal()}); g != tc.want {
				t.Errorf("MergeSecrets() secrets = %+v, want %+v", g, tc.want)
			}
		})
	}
}

// An admin panel shows the configuration without its secrets and saves
// what comes back, keeping the stored password unless the logon or the
// server changed.
func ExampleEmailConfiguration_MergeSecrets() {
	stored := org.EmailConfiguration{
		AccountLogon: `CONTOSO\svc-sync`,
		Password:     org.NewSecret("correct horse battery staple"),
		EWSURL:       "https://mail.contoso.com/EWS/Exchange.asmx",
	}
	// The form sends back the fields, the password left blank.
	edited := stored
	edited.Password = org.Secret{}
	edited.ExchangeVersion = "Exchange2016"
	merged := edited.MergeSecrets(stored)
	fmt.Println(merged.Password.IsZero(), merged.Validate() == nil)

	// Someone points the form at another server: the stored password is
	// not sent there; the admin must type it again.
	edited.EWSURL = "https://mail.attacker.example/EWS/Exchange.asmx"
	merged = edited.MergeSecrets(stored)
	fmt.Println(merged.Password.IsZero())
	fmt.Println(merged.Validate())
	// Output:
	// false true
	// true
	// org: 1 problem: Password: is empty. Enter the service account's password.
}
