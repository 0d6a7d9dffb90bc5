package impersonation_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// Diagnose runs the Service Account Access test for one mailbox and says
// which step fails and what to do. Here a fake Exchange 2019 lets the
// service account impersonate anna but not ben, whose mailbox is outside
// the role assignment's management scope.
func ExampleDiagnose() {
	srv, err := scctest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	for _, addr := range []string{"anna@contoso.example", "ben@contoso.example"} {
		if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: addr}); err != nil {
			log.Fatal(err)
		}
	}
	if err := srv.AddServiceAccount(`CONTOSO\svc-sync`, "Example-Passw0rd!", scctest.ImpersonateScope("anna@contoso.example")); err != nil {
		log.Fatal(err)
	}
	srv.StartTLS()

	cfg := org.EmailConfiguration{
		AccessType:   org.Impersonation,
		AccountLogon: `CONTOSO\svc-sync`,
		Password:     org.NewSecret("Example-Passw0rd!"),
		EWSURL:       srv.EWSURL(),
		AuthMethod:   org.AuthNTLM,
	}
	ctx := context.Background()
	for _, mailbox := range []string{"anna@contoso.example", "ben@contoso.example"} {
		// WithHTTPClient trusts the fake's self-signed certificate, for the
		// TLS step too.
		d, err := impersonation.Diagnose(ctx, cfg, mailbox, impersonation.WithHTTPClient(srv.Client()))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(mailbox, "->", d.Verdict())
		for _, s := range d.Steps {
			line := fmt.Sprintf("  %s %s", s.Status.Mark(), s.Name)
			if s.Code != "" {
				line += " " + string(s.Code)
			}
			fmt.Println(line)
		}
	}
	// Output:
	// anna@contoso.example -> warning
	//   ✓ configuration
	//   - autodiscover
	//   ✓ dns
	//   ✓ tcp
	//   ✓ tls
	//   ✓ ews-endpoint
	//   ✓ auth-schemes
	//   ✓ logon
	//   ! server-version
	//   ✓ impersonation
	//   ✓ inbox
	//   - write-test
	// ben@contoso.example -> fail
	//   ✓ configuration
	//   - autodiscover
	//   ✓ dns
	//   ✓ tcp
	//   ✓ tls
	//   ✓ ews-endpoint
	//   ✓ auth-schemes
	//   ✓ logon
	//   ! server-version
	//   ✗ impersonation ErrorImpersonateUserDenied
	//   - inbox
	//   - write-test
}
