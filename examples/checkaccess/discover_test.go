package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/ews/autodiscover"
	"github.com/sccsync/scc/examples/internal/account"
	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/scctest"
)

// TestRunDiscover: -discover finds the EWS URL from the first user's
// address (the logon is DOMAIN\user), says from where, checks every user
// over it and records their GroupingInformation.
func TestRunDiscover(t *testing.T) {
	h := scctest.NewTestHosts(t)
	srv := h.NewTLSServer(t, []string{"autodiscover.contoso.example", "mail.contoso.example"}, scctest.WithAuth(scctest.AuthNTLM))
	for _, a := range []string{"anna@contoso.example", "ben@contoso.example"} {
		if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: a}); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.AddServiceAccount(`CONTOSO\svc-sync`, "Real-Secret-1", scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(srv.Listener().Addr().String())
	h.Route("mail.contoso.example:"+port, srv.Listener().Addr().String())
	ewsURL := "https://mail.contoso.example:" + port + "/EWS/Exchange.asmx"
	srv.SetAutodiscoverEWSURL(ewsURL, "")

	csvFile := filepath.Join(t.TempDir(), "mailboxes.csv")
	if err := os.WriteFile(csvFile, []byte("PrimarySmtpAddress\r\nanna@contoso.example\r\nben@contoso.example\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: h.DialContext, TLSClientConfig: h.TLSConfig()}}
	f := flags{Flags: account.Flags{Logon: `CONTOSO\svc-sync`, Auth: "ntlm", Discover: true}, users: csvFile, concurrency: 2, json: true,
		adOptions:  []autodiscover.Option{autodiscover.WithDialer(h.DialContext), autodiscover.WithSRVLookup(h.LookupSRV), autodiscover.WithTLSConfig(h.TLSConfig())},
		ewsOptions: []ews.Option{ews.WithHTTPClient(hc)}}
	t.Setenv("SCC_PASSWORD", "Real-Secret-1")
	var out, errOut bytes.Buffer
	code, err := run(context.Background(), f, &out, &errOut)
	if err != nil || code != 0 {
		t.Fatalf("run(-discover) = %d, %v; stderr:\n%s", code, err, errOut.String())
	}
	if want := "EWS URL: " + ewsURL + " (from SOAP Autodiscover at https://autodiscover.contoso.example/autodiscover/autodiscover.svc"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr = %q, want it to contain %q", errOut.String(), want)
	}
	var rep impersonation.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Endpoint != ewsURL || rep.Counts[impersonation.StatusOK] != 2 {
		t.Errorf("report endpoint %q, counts %v; want %s and 2 ok", rep.Endpoint, rep.Counts, ewsURL)
	}
	for _, r := range rep.Results {
		if !strings.HasPrefix(r.GroupingInformation, "SCCGRP") {
			t.Errorf("%s: GroupingInformation %q, want SCCGRP<n>", r.Address, r.GroupingInformation)
		}
	}

	// A foreign EWS URL is not used; the candidates are listed.
	srv.SetAutodiscoverEWSURL("https://mail.evil.example/EWS/Exchange.asmx", "")
	out.Reset()
	errOut.Reset()
	code, err = run(context.Background(), f, &out, &errOut)
	if code != 2 || err == nil || !strings.Contains(errOut.String(), "needs-confirmation") || !strings.Contains(err.Error(), "-autodiscover-allow") {
		t.Errorf("run(-discover) with a foreign URL = %d, %v; stderr:\n%s", code, err, errOut.String())
	}
	if strings.Contains(out.String()+errOut.String(), "Real-Secret-1") {
		t.Error("output contains the password")
	}
}
