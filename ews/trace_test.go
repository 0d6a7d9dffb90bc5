package ews_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sccsync/scc/ews"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWireTraceRedacts(t *testing.T) {
	const password = "Sup3r-Secret!"
	reply := strings.Replace(string(readTestdata(t, "responses/getfolder-inbox.xml")),
		"<t:DisplayName>Inbox</t:DisplayName>", "<t:DisplayName>Inbox</t:DisplayName><t:Password>"+password+"</t:Password>", 1)
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if _, pw, ok := r.BasicAuth(); !ok || pw != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="ews"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Set-Cookie", "X-BackEndCookie=session-token-value; path=/EWS")
		soapReply(200, []byte(reply))(w, r, n)
	})
	var trace syncBuffer
	c := newClient(t, f, ews.WithBasicAuth(`CONTOSO\svc-scc`, password), ews.WithInsecureHTTP(), ews.WithWireTrace(&trace))
	folder, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox), ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
	if err != nil {
		t.Fatalf("Folder = %v", err)
	}
	if folder.DisplayName != "Inbox" {
		t.Errorf("DisplayName = %q after tracing, want Inbox (the trace must hand the body on intact)", folder.DisplayName)
	}
	out := trace.String()
	for _, want := range []string{"--> POST ", "Authorization: Basic [redacted]", "X-Anchormailbox: alice@contoso.example", "<t:PrimarySmtpAddress>alice@contoso.example</t:PrimarySmtpAddress>", "<-- HTTP/1.1 200 OK", "<t:Password>[redacted]</t:Password>", "Set-Cookie: X-BackEndCookie=[redacted]"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
	creds := base64.StdEncoding.EncodeToString([]byte(`CONTOSO\svc-scc:` + password))
	for _, secret := range []string{password, creds, "session-token-value"} {
		if strings.Contains(out, secret) {
			t.Errorf("trace leaks %q:\n%s", secret, out)
		}
	}
}

func TestLogger(t *testing.T) {
	const password = "Sup3r-Secret!"
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		soapReply(200, readTestdata(t, "responses/getfolder-inbox.xml"))(w, r, n)
	})
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, f, ews.WithBasicAuth("svc@contoso.example", password), ews.WithInsecureHTTP(), ews.WithLogger(logger))
	if _, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox), ews.Impersonate(ews.SID("S-1-5-21-1-2-3-4"))); err != nil {
		t.Fatalf("Folder = %v", err)
	}
	out := logs.String()
	for _, want := range []string{"ews retry", "operation=GetFolder", "status=503", "status=200", "impersonated=SID:S-1-5-21-1-2-3-4"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, password) {
		t.Errorf("log leaks the password:\n%s", out)
	}
}
