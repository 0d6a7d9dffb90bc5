package ews_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
)

// exampleExchange starts a local stand-in for https://<host>/EWS/Exchange.asmx
// that answers every request with status and body, so the examples run
// offline.
func exampleExchange(status int, body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
}

const exampleInbox = `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Header><h:ServerVersionInfo xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" MajorVersion="15" MinorVersion="20" MajorBuildNumber="7228" MinorBuildNumber="32" Version="V2018_01_08"/></s:Header>
  <s:Body><m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages>
    <m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
      <m:Folders><t:Folder><t:FolderId Id="AAMkInbox=" ChangeKey="AQAAAA=="/><t:DisplayName>Inbox</t:DisplayName><t:TotalCount>1287</t:TotalCount><t:UnreadCount>42</t:UnreadCount></t:Folder></m:Folders>
    </m:GetFolderResponseMessage>
  </m:ResponseMessages></m:GetFolderResponse></s:Body>
</s:Envelope>`

const exampleImpersonateDenied = `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
  <faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorImpersonateUserDenied</faultcode>
  <faultstring xml:lang="en-US">The account does not have permission to impersonate the requested user.</faultstring>
  <detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorImpersonateUserDenied</e:ResponseCode>
    <e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">The account does not have permission to impersonate the requested user.</e:Message></detail>
</s:Fault></s:Body></s:Envelope>`

const exampleServerBusy = `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
  <faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorServerBusy</faultcode>
  <faultstring xml:lang="en-US">The server cannot service this request right now. Try again later.</faultstring>
  <detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorServerBusy</e:ResponseCode>
    <e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">The server cannot service this request right now. Try again later.</e:Message>
    <t:MessageXml xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><t:Value Name="BackOffMilliseconds">297749</t:Value></t:MessageXml></detail>
</s:Fault></s:Body></s:Envelope>`

func ExampleNewClient() {
	srv := exampleExchange(200, exampleInbox)
	defer srv.Close()

	// Against a real server: ews.NewClient("https://mail.contoso.com/EWS/Exchange.asmx",
	//	ews.WithNTLM(`CONTOSO\svc-sync`, password))
	c, err := ews.NewClient(srv.URL+"/EWS/Exchange.asmx",
		ews.WithServerVersion(ews.Exchange2013_SP1),
		ews.WithTimeZoneContext("W. Europe Standard Time"),
	)
	if err != nil {
		log.Fatal(err)
	}
	inbox, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(inbox.DisplayName, inbox.TotalCount)
	// Output: Inbox 1287
}

func ExampleClient_With() {
	srv := exampleExchange(200, exampleInbox)
	defer srv.Close()
	c, err := ews.NewClient(srv.URL + "/EWS/Exchange.asmx")
	if err != nil {
		log.Fatal(err)
	}
	// One view per mailbox: each request carries t:ExchangeImpersonation and
	// X-AnchorMailbox for that user. Views are cheap and share connections.
	for _, addr := range []string{"alice@contoso.com", "bob@contoso.com"} {
		user := c.With(ews.Impersonate(ews.PrimarySmtpAddress(addr)))
		inbox, err := user.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
		if err != nil {
			fmt.Println(addr, "failed:", err)
			continue
		}
		fmt.Println(addr, inbox.UnreadCount, "unread")
	}
	// Output:
	// alice@contoso.com 42 unread
	// bob@contoso.com 42 unread
}

func ExampleClient_GetFolder() {
	srv := exampleExchange(200, exampleInbox)
	defer srv.Close()
	c, err := ews.NewClient(srv.URL + "/EWS/Exchange.asmx")
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.GetFolder(context.Background(), &ews.GetFolderRequest{
		FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)},
		Shape:     ews.ShapeDefault,
	}, ews.Impersonate(ews.PrincipalName("alice@corp.contoso.com")))
	if err != nil {
		log.Fatal(err) // the request as a whole failed
	}
	fmt.Println("server:", resp.ServerVersion.Product(), resp.ServerVersion.Version)
	for _, r := range resp.Results { // one per requested folder, in order
		if r.Err != nil {
			fmt.Println("folder failed:", r.Code)
			continue
		}
		fmt.Println(r.Folder.DisplayName, r.Folder.FolderID.ID)
	}
	// Output:
	// server: Exchange Online V2018_01_08
	// Inbox AAMkInbox=
}

func ExampleClient_Items() {
	srv := httptest.NewServer(http.HandlerFunc(inboxOfFive))
	defer srv.Close()
	c, err := ews.NewClient(srv.URL + "/EWS/Exchange.asmx")
	if err != nil {
		log.Fatal(err)
	}
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.com")))
	req := &ews.FindItemRequest{
		ParentFolderIDs:      []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)},
		AdditionalProperties: []ews.FieldURI{ews.FieldItemSubject},
		Page:                 &ews.PageView{MaxEntries: 2}, // 3 FindItem calls
	}
	for item, err := range alice.Items(context.Background(), req) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(item.Subject)
	}
	// Output:
	// message 1
	// message 2
	// message 3
	// message 4
	// message 5
}

// inboxOfFive answers FindItem for a folder of 5 messages, page by page.
func inboxOfFive(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var size, offset int
	req := string(body)
	fmt.Sscanf(req[strings.Index(req, "MaxEntriesReturned="):], `MaxEntriesReturned="%d" Offset="%d"`, &size, &offset)
	const total = 5
	end := min(offset+size, total)
	var items strings.Builder
	for i := offset; i < end; i++ {
		fmt.Fprintf(&items, `<t:Message><t:ItemId Id="AAMk%d="/><t:Subject>message %d</t:Subject></t:Message>`, i+1, i+1)
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<m:FindItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages>
<m:FindItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
<m:RootFolder IndexedPagingOffset="%d" TotalItemsInView="%d" IncludesLastItemInRange="%t"><t:Items>%s</t:Items></m:RootFolder>
</m:FindItemResponseMessage></m:ResponseMessages></m:FindItemResponse></s:Body></s:Envelope>`, end, total, end == total, items.String())
}

func ExampleIsTransient() {
	srv := exampleExchange(500, exampleImpersonateDenied)
	defer srv.Close()
	c, err := ews.NewClient(srv.URL + "/EWS/Exchange.asmx")
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox),
		ews.Impersonate(ews.PrimarySmtpAddress("ceo@contoso.com")))

	var fault *ews.FaultError
	switch {
	case errors.Is(err, ews.ErrorImpersonateUserDenied):
		fmt.Println("no impersonation rights for this mailbox")
	case ews.IsTransient(err):
		fmt.Println("try again later")
	}
	if errors.As(err, &fault) {
		fmt.Println(fault.StatusCode, fault.Code)
	}
	fmt.Println("transient:", ews.IsTransient(err))
	// Output:
	// no impersonation rights for this mailbox
	// 500 ErrorImpersonateUserDenied
	// transient: false
}

// A bulk job that wants to pause all its workers on throttling turns retries
// off and reads the server's back-off from the error.
func ExampleBackOff() {
	srv := exampleExchange(500, exampleServerBusy)
	defer srv.Close()
	c, err := ews.NewClient(srv.URL+"/EWS/Exchange.asmx", ews.WithRetryPolicy(ews.NoRetries()))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox),
		ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.com")))
	if d, ok := ews.BackOff(err); ok {
		fmt.Println("pause all workers for", d.Round(time.Second))
	}
	var throttled *ews.ThrottledError
	fmt.Println(errors.As(err, &throttled), errors.Is(err, ews.ErrorServerBusy))
	// Output:
	// pause all workers for 4m58s
	// true true
}
