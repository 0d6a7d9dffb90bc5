package impersonation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://mail.contoso.example/EWS/Exchange.asmx", "https://mail.contoso.example/EWS/Exchange.asmx"},
		{" https://mail.contoso.example:8443/EWS/Exchange.asmx ", "https://mail.contoso.example:8443/EWS/Exchange.asmx"},
		{"https://svc:Pw-1@mail.contoso.example/EWS/Exchange.asmx", "https://mail.contoso.example/EWS/Exchange.asmx"},
		{"https://mail.contoso.example/EWS/Exchange.asmx?sig=Secret-2", "https://mail.contoso.example/EWS/Exchange.asmx"},
		{"https://mail.contoso.example/EWS/Exchange.asmx#Secret-3", "https://mail.contoso.example/EWS/Exchange.asmx"},
		{"https://u:p@mail.contoso.example/EWS/Exchange.asmx?a=b#c", "https://mail.contoso.example/EWS/Exchange.asmx"},
		{"https://mail.contoso.example/EWS/Exchange.asmx?", "https://mail.contoso.example/EWS/Exchange.asmx"},
		{"mail.contoso.example:Secret-4", "(invalid URL)"},
		{"https://[::1", "(invalid URL)"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEndpointHasNoQuery: neither a check's report nor a diagnosis shows or
// stores the EWS URL's query string, fragment or user information, in any
// rendering.
func TestEndpointHasNoQuery(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 1)
	const secret = "Query-Secret-5"
	for _, suffix := range []string{"?sig=" + secret, "#" + secret, "?a=1#" + secret} {
		t.Run(suffix, func(t *testing.T) {
			cfg := f.cfg
			cfg.EWSURL += suffix
			rep, err := CheckUsers(context.Background(), cfg, users, f.options()...)
			if err == nil {
				t.Fatalf("CheckUsers() with %q in the EWS URL = nil error, want a configuration stop", suffix)
			}
			if rep.Endpoint != f.cfg.EWSURL {
				t.Errorf("Report.Endpoint = %q, want %q", rep.Endpoint, f.cfg.EWSURL)
			}
			d, err := Diagnose(context.Background(), cfg, users[0].PrimarySMTP)
			if err != nil {
				t.Fatal(err)
			}
			if d.Endpoint != f.cfg.EWSURL {
				t.Errorf("Diagnosis.Endpoint = %q, want %q", d.Endpoint, f.cfg.EWSURL)
			}
			var out strings.Builder
			rep.WriteTable(&out)
			rep.WriteCSV(&out)
			d.WriteText(&out)
			b, _ := json.Marshal(rep)
			out.Write(b)
			b, _ = json.Marshal(d)
			out.Write(b)
			fmt.Fprintf(&out, "%v %+v %v %+v", rep, rep, d, d)
			if strings.Contains(out.String(), secret) {
				t.Errorf("the URL's %q appears in the output:\n%s", suffix, out.String())
			}
		})
	}
	if _, err := NewClientCredentials(org.EmailConfiguration{AccessType: org.OnlineAppOnly, TenantID: "t", ClientID: "c",
		ClientSecret: org.NewSecret("s")}, "https://login.example/?k="+secret, nil); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("NewClientCredentials(authority with a query) = %v, want an error that does not repeat the query", err)
	}
}
