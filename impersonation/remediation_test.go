package impersonation

import (
	"strings"
	"testing"
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
// same allow-list command, with the application id filled in.
func TestExchangeOnlineBlockedAdviceIsTheSameForCheckAndDiagnose(t *testing.T) {
	const app = "3f2b8c1e-5d4a-4e7b-9c61-0a1b2c3d4e5f"
	check := remediation(StatusBlockedByPolicy, "", hints{exchangeOnline: true, appOnly: true, serviceAccount: app, address: "alice@contoso.example"})
	want := exoAllowListFix(app, "alice@contoso.example")
	if !strings.Contains(check, want) {
		t.Errorf("Check's Exchange Online 403 remediation = %q, want it to contain %q", check, want)
	}
	for _, part := range []string{"-EwsAllowedAppIDs <the IDs already listed>," + app, "Set-CASMailbox alice@contoso.example -EwsEnabled $true", "1 April 2027"} {
		if !strings.Contains(want, part) {
			t.Errorf("exoAllowListFix = %q, want it to contain %q", want, part)
		}
	}
}
