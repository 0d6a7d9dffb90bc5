package autodiscover_test

import (
	"context"
	"fmt"

	"github.com/sccsync/scc/ews/autodiscover"
	"github.com/sccsync/scc/scctest"
)

// Discover the EWS URL of a mailbox with the service account's NTLM
// credentials. The fake serves Autodiscover at autodiscover.contoso.example;
// scctest.Hosts routes that name to it instead of DNS.
func ExampleClient_Discover() {
	hosts, _ := scctest.NewHosts()
	fake, _ := scctest.New(scctest.WithAuth(scctest.AuthNTLM))
	defer fake.Close()
	_ = fake.AddServiceAccount(`CONTOSO\svc-sync`, "Passw0rd!", scctest.ImpersonateAll())
	_, _ = fake.AddMailbox(scctest.Mailbox{PrimarySMTP: "alice@contoso.example"})
	_ = fake.SetAutodiscoverUser("alice@contoso.example", scctest.AutodiscoverUser{GroupingInformation: "PRDGRP01"})
	fake.SetAutodiscoverEWSURL("https://mail.contoso.example/EWS/Exchange.asmx", "")
	_ = hosts.StartTLS(fake, "autodiscover.contoso.example")

	c, err := autodiscover.New(
		autodiscover.WithCredentials(autodiscover.NTLM(`CONTOSO\svc-sync`, "Passw0rd!")),
		autodiscover.WithDialer(hosts.DialContext),    // tests only
		autodiscover.WithSRVLookup(hosts.LookupSRV),   // tests only
		autodiscover.WithTLSConfig(hosts.TLSConfig()), // tests only
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Discover(context.Background(), "alice@contoso.example")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.EWSURL)
	fmt.Println(res.Protocol, res.Source, res.Settings.GroupingInformation())
	for _, a := range res.Attempts {
		fmt.Println(a.Outcome, a.URL)
	}
	// Output:
	// https://mail.contoso.example/EWS/Exchange.asmx
	// SOAP autodiscover-host PRDGRP01
	// failed https://contoso.example/autodiscover/autodiscover.svc
	// failed https://contoso.example/autodiscover/autodiscover.xml
	// failed https://contoso.example/autodiscover/autodiscover.json/v1.0/alice@contoso.example?Protocol=EWS
	// answered https://autodiscover.contoso.example/autodiscover/autodiscover.svc
}

// Ask one SOAP Autodiscover endpoint for the settings of many mailboxes:
// 100 users per request, one answer per mailbox, in order.
func ExampleClient_GetUserSettings() {
	hosts, _ := scctest.NewHosts()
	fake, _ := scctest.New(scctest.WithAuth(scctest.AuthNTLM))
	defer fake.Close()
	_ = fake.AddServiceAccount(`CONTOSO\svc-sync`, "Passw0rd!", scctest.ImpersonateAll())
	for _, m := range []string{"alice@contoso.example", "bob@contoso.example"} {
		_, _ = fake.AddMailbox(scctest.Mailbox{PrimarySMTP: m})
	}
	_ = fake.SetAutodiscoverUser("bob@contoso.example", scctest.AutodiscoverUser{GroupingInformation: "PRDGRP02"})
	fake.SetAutodiscoverEWSURL("https://mail.contoso.example/EWS/Exchange.asmx", "")
	_ = hosts.StartTLS(fake, "autodiscover.contoso.example")

	c, _ := autodiscover.New(
		autodiscover.WithCredentials(autodiscover.NTLM(`CONTOSO\svc-sync`, "Passw0rd!")),
		autodiscover.WithDialer(hosts.DialContext), autodiscover.WithTLSConfig(hosts.TLSConfig()), // tests only
	)
	answers, err := c.GetUserSettings(context.Background(),
		"https://autodiscover.contoso.example/autodiscover/autodiscover.svc",
		[]string{"alice@contoso.example", "bob@contoso.example", "nobody@contoso.example"},
		autodiscover.SettingExternalEwsURL, autodiscover.SettingGroupingInformation)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range answers {
		if a.Err != nil {
			fmt.Println(a.Mailbox, "error:", a.Err)
			continue
		}
		fmt.Println(a.Mailbox, a.Settings.EWSURL(), a.Settings.GroupingInformation())
	}
	// Output:
	// alice@contoso.example https://mail.contoso.example/EWS/Exchange.asmx SCCGRP0
	// bob@contoso.example https://mail.contoso.example/EWS/Exchange.asmx PRDGRP02
	// nobody@contoso.example error: autodiscover: GetUserSettings for nobody@contoso.example: InvalidUser: Invalid user: 'nobody@contoso.example'
}
