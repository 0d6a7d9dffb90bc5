package scctest_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// getInbox is an impersonated GetFolder request, as any EWS client sends it.
const getInbox = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
    xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
  <soap:Header>
    <t:RequestServerVersion Version="Exchange2013_SP1"/>
    <t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>%s</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>
  </soap:Header>
  <soap:Body>
    <m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>
      <m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>
  </soap:Body>
</soap:Envelope>`

var responseCode = regexp.MustCompile(`ResponseCode[^>]*>\s*(\w+)`)

func post(s *scctest.Server, mailbox string) string {
	req, _ := http.NewRequest(http.MethodPost, s.EWSURL(), strings.NewReader(fmt.Sprintf(getInbox, mailbox)))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("X-AnchorMailbox", mailbox)
	req.SetBasicAuth(`CONTOSO\svc-sync`, "Passw0rd!")
	res, err := s.Client().Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	// The first response code, of a response message or of a fault.
	if m := responseCode.FindSubmatch(body); m != nil {
		return fmt.Sprintf("%d %s", res.StatusCode, m[1])
	}
	return fmt.Sprint(res.StatusCode)
}

// A test seeds the directory, lets its code under test talk to EWSURL, and
// inspects what happened. In a test, s := scctest.NewServer(t) starts the
// server and closes it when the test ends.
func Example() {
	s, _ := scctest.New()
	s.Start()
	defer s.Close()
	_, _ = s.AddMailbox(scctest.Mailbox{PrimarySMTP: "alice@contoso.example"})
	_, _ = s.AddMailbox(scctest.Mailbox{PrimarySMTP: "bob@contoso.example"})
	_ = s.AddServiceAccount(`CONTOSO\svc-sync`, "Passw0rd!", scctest.ImpersonateScope("alice@contoso.example"))

	fmt.Println(post(s, "alice@contoso.example"))
	fmt.Println(post(s, "bob@contoso.example"))
	fmt.Println(s.Stats().Faults[ews.ErrorImpersonateUserDenied], "denied")
	// Output:
	// 200 NoError
	// 500 ErrorImpersonateUserDenied
	// 1 denied
}

// Throttling: the next request gets ErrorServerBusy with a back-off.
func ExampleServer_InjectNext() {
	s, _ := scctest.New()
	s.Start()
	defer s.Close()
	_, _ = s.AddMailbox(scctest.Mailbox{PrimarySMTP: "alice@contoso.example"})
	_ = s.AddServiceAccount(`CONTOSO\svc-sync`, "Passw0rd!", scctest.ImpersonateAll())

	s.InjectNext(1, scctest.ServerBusy(30*time.Second))
	fmt.Println(post(s, "alice@contoso.example"))
	fmt.Println(post(s, "alice@contoso.example"))
	// Output:
	// 500 ErrorServerBusy
	// 200 NoError
}

// A reactor fails one mailbox's requests, like a mailbox being moved.
func ExampleServer_React() {
	s, _ := scctest.New()
	s.Start()
	defer s.Close()
	_, _ = s.AddMailbox(scctest.Mailbox{PrimarySMTP: "alice@contoso.example"})
	_, _ = s.AddMailbox(scctest.Mailbox{PrimarySMTP: "bob@contoso.example"})
	_ = s.AddServiceAccount(`CONTOSO\svc-sync`, "Passw0rd!", scctest.ImpersonateAll())

	s.React("GetFolder", "bob@contoso.example", func(c scctest.Call) scctest.Reaction {
		return scctest.Reaction{Fault: scctest.MessageError(ews.ErrorMailboxMoveInProgress)}
	})
	fmt.Println(post(s, "alice@contoso.example"))
	fmt.Println(post(s, "bob@contoso.example"))
	// Output:
	// 200 NoError
	// 200 ErrorMailboxMoveInProgress
}

// Targeted faults: throttle bob's second GetFolder only. Calls are counted
// among the matching requests, so alice's requests and other operations
// neither fire the fault nor use it up.
func ExampleServer_Inject() {
	s, _ := scctest.New()
	s.Start()
	defer s.Close()
	_, _ = s.AddMailbox(scctest.Mailbox{PrimarySMTP: "alice@contoso.example"})
	_, _ = s.AddMailbox(scctest.Mailbox{PrimarySMTP: "bob@contoso.example"})
	_ = s.AddServiceAccount(`CONTOSO\svc-sync`, "Passw0rd!", scctest.ImpersonateAll())

	err := s.Inject(scctest.ServerBusy(2*time.Second),
		scctest.ForOperation("GetFolder"), scctest.ForMailbox("bob@contoso.example"), scctest.OnCall(2))
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(post(s, "bob@contoso.example"))
	fmt.Println(post(s, "alice@contoso.example"))
	fmt.Println(post(s, "bob@contoso.example"))
	fmt.Println(post(s, "bob@contoso.example"))
	// Output:
	// 200 NoError
	// 200 NoError
	// 500 ErrorServerBusy
	// 200 NoError
}
