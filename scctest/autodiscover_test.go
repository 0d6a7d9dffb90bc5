package scctest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/scctest"
)

// adWorld is a TLS fake for contoso.example's Autodiscover names with Basic
// auth, and a client routed to it.
func adWorld(t *testing.T, opts ...scctest.Option) (*scctest.Server, *http.Client) {
	t.Helper()
	h := scctest.NewTestHosts(t)
	s := h.NewTLSServer(t, []string{"autodiscover.contoso.example"}, append([]scctest.Option{scctest.WithAuth(scctest.AuthBasic)}, opts...)...)
	if err := s.AddServiceAccount(`CONTOSO\svc`, "pw", scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: "alice@contoso.example", DisplayName: "Alice Liddell", ProxyAddresses: []string{"al@contoso.example"}}); err != nil {
		t.Fatal(err)
	}
	s.SetAutodiscoverEWSURL("https://mail.contoso.example/EWS/Exchange.asmx", "")
	tr := &http.Transport{DialContext: h.DialContext, TLSClientConfig: h.TLSConfig()}
	t.Cleanup(tr.CloseIdleConnections)
	return s, &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func adPost(t *testing.T, c *http.Client, path, body string, auth bool) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://autodiscover.contoso.example"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if auth {
		req.SetBasicAuth(`CONTOSO\svc`, "pw")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func getUserSettings(users []string, settings ...string) string {
	var b strings.Builder
	b.WriteString(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action></soap:Header><soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users>`)
	for _, u := range users {
		fmt.Fprintf(&b, `<a:User><a:Mailbox>%s</a:Mailbox></a:User>`, u)
	}
	b.WriteString(`</a:Users><a:RequestedSettings>`)
	for _, s := range settings {
		fmt.Fprintf(&b, `<a:Setting>%s</a:Setting>`, s)
	}
	b.WriteString(`</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>`)
	return b.String()
}

// The shapes of the documented GetUserSettings response, in element order
// (GetUserSettingsResponseMessage, Response, UserResponse, UserSetting of
// the SOAP Autodiscover reference). The Autodiscover XSD is not among the
// shared schema files, so this strict decode is what we can validate.
type adEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Header  struct {
		Action            string `xml:"http://www.w3.org/2005/08/addressing Action"`
		ServerVersionInfo struct {
			MajorVersion, MinorVersion, MajorBuildNumber, MinorBuildNumber int
			Version                                                        string
		} `xml:"http://schemas.microsoft.com/exchange/2010/Autodiscover ServerVersionInfo"`
	} `xml:"Header"`
	Response struct {
		Children  []xml.Name `xml:",any"`
		ErrorCode string
		Users     []struct {
			Order          []xml.Name `xml:",any"`
			ErrorCode      string
			ErrorMessage   string
			RedirectTarget struct {
				Nil   string `xml:"http://www.w3.org/2001/XMLSchema-instance nil,attr"`
				Value string `xml:",chardata"`
			}
			SettingErrors []struct {
				ErrorCode, ErrorMessage, SettingName string
			} `xml:"UserSettingErrors>UserSettingError"`
			Settings []struct {
				Type  string `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
				Name  string
				Value string
			} `xml:"UserSettings>UserSetting"`
		} `xml:"UserResponses>UserResponse"`
	} `xml:"Body>GetUserSettingsResponseMessage>Response"`
}

// orderOf decodes the child element names of the first element at path.
func childOrder(t *testing.T, body []byte, local string) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(body))
	var out []string
	depth, in := 0, -1
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			depth++
			if in < 0 && x.Name.Local == local {
				in = depth
			} else if in > 0 && depth == in+1 {
				out = append(out, x.Name.Local)
			}
		case xml.EndElement:
			if depth == in {
				return out
			}
			depth--
		}
	}
}

// TestAutodiscoverGetUserSettings: one UserResponse per user in request
// order, each in the documented shape, with the per-mailbox settings.
func TestAutodiscoverGetUserSettings(t *testing.T) {
	s, c := adWorld(t)
	if err := s.SetAutodiscoverUser("alice@contoso.example", scctest.AutodiscoverUser{GroupingInformation: "PRDGRP01"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAutodiscoverUser("moved@contoso.example", scctest.AutodiscoverUser{RedirectAddress: "alice@contoso.example"}); err != nil {
		t.Fatal(err)
	}
	status, _, body := adPost(t, c, "/autodiscover/autodiscover.svc",
		getUserSettings([]string{"al@contoso.example", "ghost@contoso.example", "moved@contoso.example"},
			"ExternalEwsUrl", "GroupingInformation", "UserDisplayName", "AutoDiscoverSMTPAddress", "Bogus"), true)
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200: %s", status, body)
	}
	var env adEnvelope
	if err := xml.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if got, want := childOrder(t, body, "Response"), []string{"ErrorCode", "ErrorMessage", "UserResponses"}; !cmp.Equal(got, want) {
		t.Errorf("Response children = %v, want %v", got, want)
	}
	if got, want := childOrder(t, body, "UserResponse"), []string{"ErrorCode", "ErrorMessage", "RedirectTarget", "UserSettingErrors", "UserSettings"}; !cmp.Equal(got, want) {
		t.Errorf("UserResponse children = %v, want %v", got, want)
	}
	if env.Header.ServerVersionInfo.MajorVersion != 15 || env.Header.Action == "" {
		t.Errorf("headers = %+v, want Action and ServerVersionInfo 15.x", env.Header)
	}
	us := env.Response.Users
	if env.Response.ErrorCode != "NoError" || len(us) != 3 {
		t.Fatalf("Response = %s with %d users, want NoError with 3", env.Response.ErrorCode, len(us))
	}
	settings := map[string]string{}
	for _, st := range us[0].Settings {
		if st.Type != "a:StringSetting" {
			t.Errorf("setting %s has type %q, want a:StringSetting", st.Name, st.Type)
		}
		settings[st.Name] = st.Value
	}
	want := map[string]string{
		"ExternalEwsUrl": "https://mail.contoso.example/EWS/Exchange.asmx", "GroupingInformation": "PRDGRP01",
		"UserDisplayName": "Alice Liddell", "AutoDiscoverSMTPAddress": "alice@contoso.example",
	}
	if d := cmp.Diff(want, settings); d != "" {
		t.Errorf("settings of al@ (-want +got):\n%s", d)
	}
	if len(us[0].SettingErrors) != 1 || us[0].SettingErrors[0].SettingName != "Bogus" || us[0].SettingErrors[0].ErrorCode != "InvalidSetting" {
		t.Errorf("setting errors = %+v, want InvalidSetting for Bogus", us[0].SettingErrors)
	}
	if us[0].RedirectTarget.Nil != "true" {
		t.Errorf("RedirectTarget of a NoError user is not xsi:nil")
	}
	if us[1].ErrorCode != "InvalidUser" || len(us[1].Settings) != 0 {
		t.Errorf("ghost = %s with %d settings, want InvalidUser and none", us[1].ErrorCode, len(us[1].Settings))
	}
	if us[2].ErrorCode != "RedirectAddress" || us[2].RedirectTarget.Value != "alice@contoso.example" {
		t.Errorf("moved = %s → %q, want RedirectAddress to alice@", us[2].ErrorCode, us[2].RedirectTarget.Value)
	}
}

// TestAutodiscoverRefusals: what the fake refuses, and how.
func TestAutodiscoverRefusals(t *testing.T) {
	s, c := adWorld(t)
	many := make([]string, scctest.AutodiscoverMaxUsers+1)
	for i := range many {
		many[i] = fmt.Sprintf("u%d@contoso.example", i)
	}
	tests := []struct {
		name, path, body string
		auth             bool
		status           int
		contains         string
	}{
		{"SOAP without credentials", "/autodiscover/autodiscover.svc", getUserSettings([]string{"alice@contoso.example"}, "ExternalEwsUrl"), false, 401, ""},
		{"POX without credentials", "/autodiscover/autodiscover.xml", "<x/>", false, 401, ""},
		{"too many users", "/autodiscover/autodiscover.svc", getUserSettings(many, "ExternalEwsUrl"), true, 200, "<a:ErrorCode>InvalidRequest</a:ErrorCode>"},
		{"no settings", "/autodiscover/autodiscover.svc", getUserSettings([]string{"alice@contoso.example"}), true, 200, "<a:ErrorCode>InvalidRequest</a:ErrorCode>"},
		{"not XML", "/autodiscover/autodiscover.svc", "<oops", true, 500, "<s:Fault>"},
		{"POX wrong schema", "/autodiscover/autodiscover.xml", `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>alice@contoso.example</EMailAddress><AcceptableResponseSchema>urn:x</AcceptableResponseSchema></Request></Autodiscover>`, true, 200, "<ErrorCode>600</ErrorCode>"},
		{"POX unknown user", "/autodiscover/autodiscover.xml", `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>ghost@contoso.example</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`, true, 200, "<ErrorCode>500</ErrorCode>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := adPost(t, c, tc.path, tc.body, tc.auth)
			if status != tc.status || !strings.Contains(string(body), tc.contains) {
				t.Errorf("POST %s = %d %s, want %d containing %q", tc.path, status, body, tc.status, tc.contains)
			}
			if status == 401 && h.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
	if got := s.Authorizations(); len(got) != 5 || !strings.HasPrefix(got[0], "Basic ") {
		t.Errorf("Authorizations() = %d values, want the 5 Basic headers sent", len(got))
	}
}

// TestAutodiscoverPOX: settings and both redirect actions.
func TestAutodiscoverPOX(t *testing.T) {
	s, c := adWorld(t)
	if err := s.SetAutodiscoverUser("moved@contoso.example", scctest.AutodiscoverUser{RedirectURL: "https://ad2.contoso.example/autodiscover/autodiscover.xml"}); err != nil {
		t.Fatal(err)
	}
	pox := func(addr string) string {
		return `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>` + addr + `</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`
	}
	_, _, body := adPost(t, c, "/autodiscover/autodiscover.xml", pox("alice@contoso.example"), true)
	for _, want := range []string{"<Action>settings</Action>", "<Type>EXPR</Type><EwsUrl>https://mail.contoso.example/EWS/Exchange.asmx</EwsUrl><GroupingInformation>SCCGRP", "<AutoDiscoverSMTPAddress>alice@contoso.example<"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("POX answer lacks %q:\n%s", want, body)
		}
	}
	_, _, body = adPost(t, c, "/autodiscover/autodiscover.xml", pox("moved@contoso.example"), true)
	if !strings.Contains(string(body), "<Action>redirectUrl</Action><RedirectUrl>https://ad2.contoso.example/autodiscover/autodiscover.xml</RedirectUrl>") {
		t.Errorf("POX redirect answer = %s", body)
	}
}

// TestAutodiscoverJSON: v2 is anonymous, names the EWS URL, and refuses
// unknown protocols with InvalidProtocol.
func TestAutodiscoverJSON(t *testing.T) {
	_, c := adWorld(t)
	for _, tc := range []struct {
		path   string
		status int
		want   map[string]string
	}{
		{"/autodiscover/autodiscover.json/v1.0/alice@contoso.example?Protocol=EWS", 200, map[string]string{"Protocol": "EWS", "Url": "https://mail.contoso.example/EWS/Exchange.asmx"}},
		{"/autodiscover/autodiscover.json?Email=alice@contoso.example&Protocol=ews", 200, map[string]string{"Protocol": "EWS", "Url": "https://mail.contoso.example/EWS/Exchange.asmx"}},
		{"/autodiscover/autodiscover.json/v1.0/alice@contoso.example?Protocol=Gopher", 400, nil},
	} {
		resp, err := c.Get("https://autodiscover.contoso.example" + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.status {
			t.Fatalf("GET %s = %d, %v", tc.path, resp.StatusCode, err)
		}
		if tc.want == nil {
			if got["ErrorCode"] != "InvalidProtocol" {
				t.Errorf("GET %s = %v, want ErrorCode InvalidProtocol", tc.path, got)
			}
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("GET %s (-want +got):\n%s", tc.path, d)
		}
	}
}

// TestHostsRouting: unknown names fail like DNS; SRV answers from the table.
func TestHostsRouting(t *testing.T) {
	h := scctest.NewTestHosts(t)
	if _, err := h.DialContext(context.Background(), "tcp", "nowhere.example:443"); err == nil {
		t.Error("DialContext(nowhere.example) succeeded, want a DNS-like error")
	}
	h.SetSRV("_autodiscover._tcp.contoso.example", &net.SRV{Target: "ad.contoso.example.", Port: 443})
	_, recs, err := h.LookupSRV(context.Background(), "autodiscover", "tcp", "contoso.example")
	if err != nil || len(recs) != 1 || recs[0].Target != "ad.contoso.example." {
		t.Errorf("LookupSRV = %v, %v; want the record set", recs, err)
	}
	if _, _, err := h.LookupSRV(context.Background(), "autodiscover", "tcp", "fabrikam.example"); err == nil {
		t.Error("LookupSRV(fabrikam.example) succeeded, want not found")
	}
}
