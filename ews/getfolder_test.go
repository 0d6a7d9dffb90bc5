package ews_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

func TestFolderImpersonatedInbox(t *testing.T) {
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/getfolder-inbox.xml")))
	c := newClient(t, f)
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))

	got, err := alice.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
	if err != nil {
		t.Fatalf("Folder(inbox) = %v", err)
	}
	want := &ews.Folder{
		Kind: "Folder",
		FolderID: ews.FolderID{
			ID:        "AAMkADk0ZTFjYzY0LWU4ZDItNDc1NC1hYjI1LTA1NzYwMzY0ZGM4YgAuAAAAAAC6lRnCtgnoR5rnTnydwdOOAQBKdbQDh3voQ4XIx7c5nBRhAAAAAAEMAAA=",
			ChangeKey: "AQAAABYAAABKdbQDh3voQ4XIx7c5nBRhAAAAAAA2",
		},
		ParentFolderID: ews.FolderID{
			ID:        "AAMkADk0ZTFjYzY0LWU4ZDItNDc1NC1hYjI1LTA1NzYwMzY0ZGM4YgAuAAAAAAC6lRnCtgnoR5rnTnydwdOOAQBKdbQDh3voQ4XIx7c5nBRhAAAAAAEIAAA=",
			ChangeKey: "AQAAAA==",
		},
		FolderClass: "IPF.Note", DisplayName: "Inbox", TotalCount: 1287, ChildFolderCount: 3, UnreadCount: 42,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Folder(inbox) mismatch (-want +got):\n%s", diff)
	}
	reqs := f.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(reqs))
	}
	h := reqs[0].Header
	for k, want := range map[string]string{
		"X-AnchorMailbox": "alice@contoso.example",
		"Content-Type":    "text/xml; charset=utf-8",
		"User-Agent":      ews.DefaultUserAgent,
	} {
		if got := h.Get(k); got != want {
			t.Errorf("request header %s = %q, want %q", k, got, want)
		}
	}
	if got := h.Get("X-PreferServerAffinity"); got != "" {
		t.Errorf("X-PreferServerAffinity = %q, want none", got)
	}
	body := string(reqs[0].Body)
	for _, want := range []string{
		`<t:RequestServerVersion Version="Exchange2013_SP1"/>`,
		`<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>alice@contoso.example</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`,
		`<t:DistinguishedFolderId Id="inbox"/>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("request body lacks %s:\n%s", want, body)
		}
	}
}

func TestAnchorMailboxHeaders(t *testing.T) {
	tests := []struct {
		name         string
		opts         []ews.CallOption
		wantAnchor   string
		wantAffinity string
	}{
		{"no impersonation", nil, "", ""},
		{"primary smtp", []ews.CallOption{ews.Impersonate(ews.PrimarySmtpAddress("a@contoso.example"))}, "a@contoso.example", ""},
		{"smtp", []ews.CallOption{ews.Impersonate(ews.SmtpAddress("alias@contoso.example"))}, "alias@contoso.example", ""},
		{"upn", []ews.CallOption{ews.Impersonate(ews.PrincipalName("a@corp.contoso.example"))}, "a@corp.contoso.example", ""},
		{"sid without anchor", []ews.CallOption{ews.Impersonate(ews.SID("S-1-5-21-1-2-3-1118"))}, "", ""},
		{"sid with anchor", []ews.CallOption{ews.Impersonate(ews.SID("S-1-5-21-1-2-3-1118")), ews.AnchorMailbox("a@contoso.example")}, "a@contoso.example", ""},
		{"override", []ews.CallOption{ews.AnchorMailbox("anchor@contoso.example"), ews.Impersonate(ews.PrimarySmtpAddress("a@contoso.example"))}, "anchor@contoso.example", ""},
		{"affinity", []ews.CallOption{ews.Impersonate(ews.PrimarySmtpAddress("a@contoso.example")), ews.PreferServerAffinity()}, "a@contoso.example", "true"},
	}
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/getfolder-inbox.xml")))
	c := newClient(t, f)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox), tt.opts...); err != nil {
				t.Fatalf("Folder = %v", err)
			}
			h := f.Requests()[i].Header
			if got := h.Get("X-AnchorMailbox"); got != tt.wantAnchor {
				t.Errorf("X-AnchorMailbox = %q, want %q", got, tt.wantAnchor)
			}
			if got := h.Get("X-PreferServerAffinity"); got != tt.wantAffinity {
				t.Errorf("X-PreferServerAffinity = %q, want %q", got, tt.wantAffinity)
			}
		})
	}
}

func TestInvalidImpersonationNothingSent(t *testing.T) {
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/getfolder-inbox.xml")))
	c := newClient(t, f)
	tests := []struct {
		name string
		opt  ews.CallOption
	}{
		{"empty smtp", ews.Impersonate(ews.PrimarySmtpAddress(""))},
		{"no at", ews.Impersonate(ews.SmtpAddress("alice"))},
		{"two ats", ews.Impersonate(ews.PrimarySmtpAddress("a@b@c"))},
		{"space", ews.Impersonate(ews.PrimarySmtpAddress("alice @contoso.example"))},
		{"markup", ews.Impersonate(ews.PrimarySmtpAddress("<a>@contoso.example"))},
		{"empty upn", ews.Impersonate(ews.PrincipalName(""))},
		{"bad sid", ews.Impersonate(ews.SID("S-1-5-x"))},
		{"sid no sub", ews.Impersonate(ews.SID("S-1-5"))},
		{"zero", ews.Impersonate(ews.ConnectingSID{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox), tt.opt)
			if !errors.Is(err, ews.ErrInvalidConnectingSID) || !errors.Is(err, ews.ErrInvalidRequest) {
				t.Errorf("Folder = %v, want an error wrapping ErrInvalidConnectingSID and ErrInvalidRequest", err)
			}
		})
	}
	_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox), ews.AnchorMailbox(""))
	if !errors.Is(err, ews.ErrInvalidRequest) {
		t.Errorf("Folder(AnchorMailbox(\"\")) = %v, want ErrInvalidRequest", err)
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

func TestGetFolderBatchMixed(t *testing.T) {
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/getfolder-batch-mixed.xml")))
	c := newClient(t, f)
	resp, err := c.GetFolder(context.Background(), &ews.GetFolderRequest{FolderIDs: []ews.FolderID{
		ews.DistinguishedFolder(ews.FolderCalendar),
		{Distinguished: ews.FolderInbox, Mailbox: "nobody@contoso.example"},
		{ID: "AAMkSecret="},
	}})
	if err != nil {
		t.Fatalf("GetFolder = %v", err)
	}
	if got, want := resp.ServerVersion, (&ews.ServerVersionInfo{MajorVersion: 15, MinorVersion: 1, MajorBuildNumber: 2507, MinorBuildNumber: 6, Version: "V2017_07_11"}); !cmp.Equal(got, want) {
		t.Errorf("ServerVersion = %+v, want %+v", got, want)
	}
	if len(resp.Results) != 3 {
		t.Fatalf("len(Results) = %d, want 3", len(resp.Results))
	}
	if r := resp.Results[0]; r.Err != nil || r.Class != ews.ClassSuccess || r.Folder.Kind != "CalendarFolder" || r.Folder.DisplayName != "Calendar" {
		t.Errorf("Results[0] = %+v, want the calendar folder", r)
	}
	var re *ews.ResponseError
	if r := resp.Results[1]; !errors.As(r.Err, &re) || re.Index != 1 || re.Code != ews.ErrorNonExistentMailbox || !errors.Is(r.Err, ews.ErrorNonExistentMailbox) {
		t.Errorf("Results[1].Err = %v, want *ResponseError ErrorNonExistentMailbox at index 1", r.Err)
	} else if v, _ := re.MessageXML.Get("SmtpAddress"); v != "nobody@contoso.example" {
		t.Errorf("MessageXML SmtpAddress = %q, want nobody@contoso.example", v)
	}
	if r := resp.Results[2]; !errors.Is(r.Err, ews.ErrorAccessDenied) || r.Code != ews.ErrorAccessDenied || r.MessageText == "" {
		t.Errorf("Results[2] = %+v, want ErrorAccessDenied", r)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		file     string
		code     ews.ResponseCode
		xmlName  string
		xmlValue string
	}{
		{"fault-ErrorImpersonateUserDenied.xml", ews.ErrorImpersonateUserDenied, "", ""},
		{"fault-ErrorNonExistentMailbox.xml", ews.ErrorNonExistentMailbox, "SmtpAddress", "ghost@contoso.example"},
		{"fault-ErrorInvalidExchangeImpersonationHeaderData.xml", ews.ErrorInvalidExchangeImpersonationHeaderData, "", ""},
		{"fault-ErrorSchemaValidation.xml", ews.ErrorSchemaValidation, "LineNumber", "14"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := newFakeEWS(t, soapReply(500, readTestdata(t, "responses/"+tt.file)))
			c := newClient(t, f)
			_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox), ews.Impersonate(ews.PrimarySmtpAddress("bob@contoso.example")))
			var fe *ews.FaultError
			if !errors.As(err, &fe) {
				t.Fatalf("Folder = %v (%T), want *FaultError", err, err)
			}
			if fe.Code != tt.code || !errors.Is(err, tt.code) || fe.StatusCode != 500 || fe.Operation != "GetFolder" {
				t.Errorf("FaultError = %+v, want code %s, status 500, operation GetFolder", fe, tt.code)
			}
			if tt.xmlName != "" {
				if v, ok := fe.MessageXML.Get(tt.xmlName); !ok || v != tt.xmlValue {
					t.Errorf("MessageXML.Get(%q) = %q, %v, want %q", tt.xmlName, v, ok, tt.xmlValue)
				}
			}
			if ews.IsTransient(err) {
				t.Errorf("IsTransient(%v) = true, want false", err)
			}
			if n := len(f.Requests()); n != 1 {
				t.Errorf("server saw %d requests, want 1 (no retry of a permanent fault)", n)
			}
		})
	}
}

func TestAuthError(t *testing.T) {
	f := newFakeEWS(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Add("WWW-Authenticate", "Negotiate")
		w.Header().Add("WWW-Authenticate", "NTLM")
		w.Header().Add("WWW-Authenticate", `Basic realm="mail.contoso.example", charset="UTF-8"`)
		w.Header().Set("X-MS-Diagnostics", `2000003;reason="Invalid audience."`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	c := newClient(t, f)
	_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
	var ae *ews.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("Folder = %v (%T), want *AuthError", err, err)
	}
	want := &ews.AuthError{Operation: "GetFolder", Scheme: "", Offered: []string{"Negotiate", "NTLM", "Basic"}, StatusCode: 401, Diagnostics: `2000003;reason="Invalid audience."`}
	if diff := cmp.Diff(want, ae); diff != "" {
		t.Errorf("AuthError mismatch (-want +got):\n%s", diff)
	}
	if msg := err.Error(); !strings.Contains(msg, "Negotiate, NTLM, Basic") || !strings.Contains(msg, "no credentials") {
		t.Errorf("AuthError message %q does not name the offered schemes and the missing credentials", msg)
	}
	if ews.IsTransient(err) {
		t.Errorf("IsTransient(AuthError) = true, want false")
	}
}

func TestHTTPErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		ct        string
		body      string
		header    map[string]string
		reason    string // substring of Error()
		transient bool
	}{
		{"403 policy", 403, "text/html", "<html><body>Forbidden</body></html>", nil, "EWS", false},
		{"html login page", 200, "text/html; charset=utf-8", "<html><head><title>Sign in to Outlook</title><script>var password='x';</script></head><body>Please sign in</body></html>", nil, "Sign in to Outlook", false},
		{"empty body", 200, "text/xml", "", nil, "empty", false},
		{"truncated xml", 200, "text/xml", `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetFolderResponse`, nil, "well-formed", false},
		{"json", 200, "application/json", `{"error":"nope"}`, nil, "content type", false},
		{"iis 500 page", 500, "text/html", "<html><title>Server Error in '/EWS' Application.</title></html>", nil, "Server Error", true},
		{"502", 502, "text/plain", "bad gateway", nil, "502", true},
		{"302 outage", 302, "", "", map[string]string{"Location": "https://outage.contoso.example/error.aspx?token=secret"}, "https://outage.contoso.example/error.aspx", true},
		{"404", 404, "text/html", "not found", nil, "EWS URL", false},
		{"wrong body element", 200, "text/xml", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"/></s:Body></s:Envelope>`, nil, "GetItemResponse", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				if tt.ct != "" {
					w.Header().Set("Content-Type", tt.ct)
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			c := newClient(t, f, ews.WithRetryPolicy(ews.NoRetries()))
			_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
			var he *ews.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("Folder = %v (%T), want *HTTPError", err, err)
			}
			if he.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d", he.StatusCode, tt.status)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.reason) {
				t.Errorf("error %q does not contain %q", msg, tt.reason)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "password='x'") {
				t.Errorf("error %q leaks a secret", err)
			}
			if got := ews.IsTransient(err); got != tt.transient {
				t.Errorf("IsTransient(%v) = %v, want %v", err, got, tt.transient)
			}
		})
	}
}

func TestResponseBodyLimit(t *testing.T) {
	big := strings.Repeat("<t:X>filler</t:X>", 10000)
	body := `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">` + big + `</m:GetFolderResponse></s:Body></s:Envelope>`
	for _, chunked := range []bool{false, true} {
		t.Run(map[bool]string{false: "content-length", true: "chunked"}[chunked], func(t *testing.T) {
			f := newFakeEWS(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", "text/xml")
				if chunked {
					w.WriteHeader(200)
					for i := 0; i < len(body); i += 4096 {
						w.Write([]byte(body[i:min(i+4096, len(body))]))
						w.(http.Flusher).Flush()
					}
					return
				}
				w.Write([]byte(body))
			})
			c := newClient(t, f, ews.WithMaxResponseBytes(64<<10))
			_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
			var he *ews.HTTPError
			if !errors.As(err, &he) || !errors.Is(err, ews.ErrResponseTooLarge) {
				t.Fatalf("Folder = %v, want *HTTPError wrapping ErrResponseTooLarge", err)
			}
			if n := len(f.Requests()); n != 1 {
				t.Errorf("server saw %d requests, want 1 (too large is not retried)", n)
			}
		})
	}
}
