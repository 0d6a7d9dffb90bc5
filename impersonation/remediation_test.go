package impersonation

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sccsync/scc/org"
)

func TestNetworkRemediationNamesThePort(t *testing.T) {
	tests := []struct {
		port, want string
	}{
		{"", "-Port 443"},
		{"443", "-Port 443"},
		{"8443", "-Port 8443"},
	}
	for _, tt := range tests {
		got := networkRemediation(netConnect, "mail.contoso.example", tt.port)
		if !strings.Contains(got, tt.want) {
			t.Errorf("networkRemediation(netConnect, mail.contoso.example, %q) = %q, want it to contain %q", tt.port, got, tt.want)
		}
	}
}

// Check (per-user 403 on Exchange Online) and Diagnose give the admin the
// same allow-list command, with the application id where it belongs (not
// the "application <id>" text that names the service account).
func TestExchangeOnlineBlockedAdviceIsTheSameForCheckAndDiagnose(t *testing.T) {
	const app = "11111111-2222-4333-8444-555555555555"
	const mailbox = "alice@contoso.example"
	cfg := org.EmailConfiguration{AccessType: org.OnlineAppOnly, EWSURL: "https://outlook.office365.com/EWS/Exchange.asmx",
		TenantID: "contoso.onmicrosoft.com", ClientID: app, ClientSecret: org.NewSecret("s")}
	s, err := newSettings(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := newRun(s, cfg, []org.User{{PrimarySMTP: mailbox}})
	r.gate = newBackoffGate(time.Minute, time.Now)
	check := r.remediationFor(attempt{outcome: outcome{status: StatusBlockedByPolicy}}, "PrimarySmtpAddress", mailbox)

	g := newDiagnoser(&diagnoseSettings{now: time.Now}, cfg, mailbox)
	if st := g.stepConfiguration(context.Background()); st.Status == StepFailed {
		t.Fatalf("stepConfiguration() = %+v, want it to pass", st)
	}
	diagnose := g.policyFix(false)

	want := exoBlockedFix(app, mailbox)
	for name, got := range map[string]string{"Check": check, "Diagnose": diagnose} {
		if got != want {
			t.Errorf("%s's Exchange Online 403 remediation = %q, want %q", name, got, want)
		}
		if strings.Contains(got, "application "+app) {
			t.Errorf("%s's remediation = %q, want the bare application id in -EwsAllowedAppIDs", name, got)
		}
	}
	for _, part := range []string{"-EwsAllowedAppIDs <the IDs already listed>," + app + " ", "Set-CASMailbox alice@contoso.example -EwsEnabled $true", "1 April 2027"} {
		if !strings.Contains(want, part) {
			t.Errorf("exoBlockedFix = %q, want it to contain %q", want, part)
		}
	}
}
