package scctest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

// controlClient talks to a ControlHandler over a real loopback socket.
type controlClient struct {
	t   *testing.T
	url string
}

func newControl(t *testing.T, s *Server) controlClient {
	t.Helper()
	hs := httptest.NewServer(ControlHandler(s))
	t.Cleanup(hs.Close)
	return controlClient{t: t, url: hs.URL}
}

// call sends a request and returns the status and body; out, when not nil,
// receives the decoded JSON answer.
func (c controlClient) call(method, path, body string, out any) (int, string) {
	c.t.Helper()
	r, err := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		c.t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
	return res.StatusCode, string(b)
}

func (c controlClient) ok(method, path, body string, out any) {
	c.t.Helper()
	if st, b := c.call(method, path, body, out); st/100 != 2 {
		c.t.Fatalf("%s %s %s = %d %s, want 2xx", method, path, body, st, b)
	}
}

func TestControlPassword(t *testing.T) {
	s := newTestServer(t)
	c := newControl(t, s)
	c.ok("POST", "/v1/accounts/password", `{"logon": "svc-sync@contoso.example", "password": "new-pw"}`, nil)
	r := svcReq(imp(alice), getInbox)
	if got := do(t, s, nil, r); got.status != http.StatusUnauthorized {
		t.Errorf("old password after the change: status %d, want 401", got.status)
	}
	r.pass = "new-pw"
	check(t, do(t, s, nil, r), ok1())
	// Lock and unlock through the API.
	if st, _ := c.call("POST", "/v1/accounts/unlock", `{"logon": "CONTOSO\\svc-sync"}`, nil); st != 200 {
		t.Errorf("unlock = %d, want 200", st)
	}
}

func TestControlSeedMailboxesItems(t *testing.T) {
	s := newTestServer(t)
	c := newControl(t, s)
	c.ok("POST", "/v1/seed", `{"mailboxes": [{"primarySmtp": "dora@contoso.example", "password": "dora-pw"}],
		"serviceAccounts": [{"logon": "CONTOSO\\svc-two", "password": "pw2", "impersonate": ["dora@contoso.example"]}]}`, nil)
	var mbs []map[string]any
	c.ok("GET", "/v1/mailboxes", "", &mbs)
	if len(mbs) != 4 || mbs[3]["primarySmtp"] != "dora@contoso.example" {
		t.Fatalf("mailboxes = %v, want alice, bob, carol and dora", mbs)
	}
	if _, has := mbs[3]["password"]; has {
		t.Errorf("GET /v1/mailboxes shows a password: %v", mbs[3])
	}
	check(t, do(t, s, nil, req{user: `CONTOSO\svc-two`, pass: "pw2", body: envelope(version("Exchange2013_SP1")+imp("dora@contoso.example"), getInbox)}), ok1())
	if st, b := c.call("POST", "/v1/seed", `{"mailboxes": [{"primarySmtp": "DORA@contoso.example"}]}`, nil); st != http.StatusConflict {
		t.Errorf("seeding dora again = %d %s, want 409", st, b)
	}
	var id struct{ ID, ChangeKey string }
	c.ok("POST", "/v1/items", `{"mailbox": "Dora@contoso.example", "folder": "inbox", "subject": "Hello", "to": ["dora@contoso.example"]}`, &id)
	var items []struct {
		ID      string `json:"id"`
		Subject string `json:"subject"`
		Folder  string `json:"folder"`
	}
	c.ok("GET", "/v1/items?mailbox=dora@contoso.example&folder=inbox", "", &items)
	if len(items) != 1 || items[0].Subject != "Hello" || items[0].ID != id.ID || id.ID == "" {
		t.Errorf("items = %+v, want the one added with id %q", items, id.ID)
	}
}

func TestControlFaultsAndLatency(t *testing.T) {
	s := newTestServer(t)
	c := newControl(t, s)
	c.ok("POST", "/v1/faults", `{"fault": {"type": "ServerBusy", "backOffMs": 1500}, "operation": "GetFolder", "mailbox": "bob@contoso.example", "call": 2}`, nil)
	r := svcReq(imp(bob), getInbox)
	check(t, do(t, s, nil, r), ok1())
	check(t, do(t, s, nil, r), want{status: 500, fault: ews.ErrorServerBusy, values: map[string]string{"BackOffMilliseconds": "1500"}})
	check(t, do(t, s, nil, r), ok1())
	c.ok("POST", "/v1/faults", `{"fault": {"type": "MessageError", "code": "ErrorMailboxMoveInProgress"}}`, nil)
	check(t, do(t, s, nil, r), want{status: 200, codes: []ews.ResponseCode{ews.ErrorMailboxMoveInProgress}})
	c.ok("DELETE", "/v1/faults", "", nil)
	check(t, do(t, s, nil, r), ok1())
	c.ok("PUT", "/v1/latency", `{"fixed": "1ms", "jitter": "1ms"}`, nil)
	check(t, do(t, s, nil, r), ok1())
}

func TestControlRequestsAndStats(t *testing.T) {
	s := newTestServer(t)
	c := newControl(t, s)
	do(t, s, nil, req{headers: map[string]string{"X-AnchorMailbox": alice}, body: envelope("", getInbox)})
	check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), ok1())
	var log []Request
	c.ok("GET", "/v1/requests", "", &log)
	if len(log) != 2 || log[0].StatusCode != 401 || log[1].Operation != "GetFolder" || log[1].Impersonated != alice || log[0].AnchorMailbox != alice {
		t.Errorf("requests = %+v, want the 401 and the impersonated GetFolder", log)
	}
	var raw []map[string]any
	c.ok("GET", "/v1/requests", "", &raw)
	if raw[1]["operation"] != "GetFolder" || raw[1]["statusCode"] != float64(200) {
		t.Errorf("JSON names of a request = %v, want operation and statusCode", raw[1])
	}
	var st Stats
	c.ok("GET", "/v1/stats", "", &st)
	if st.Requests != 2 || st.Operations["GetFolder"] != 1 || st.StatusCodes[401] != 1 || st.ResponseCodes[ews.NoError] != 1 {
		t.Errorf("stats = %+v, want 2 requests, one GetFolder, one 401", st)
	}
	c.ok("DELETE", "/v1/requests", "", nil)
	c.ok("GET", "/v1/requests", "", &log)
	if len(log) != 0 {
		t.Errorf("requests after DELETE = %d, want 0", len(log))
	}
}

func TestControlRefuses(t *testing.T) {
	s := newTestServer(t)
	c := newControl(t, s)
	tests := []struct {
		name, method, path, body string
		ctype, host              string
		status                   int
		want                     string
	}{
		{"bad JSON", "POST", "/v1/accounts/password", `{"logon":`, "", "", 400, "request body"},
		{"unknown field", "POST", "/v1/accounts/password", `{"logon": "x", "pasword": "y"}`, "", "", 400, "unknown field"},
		{"two values", "POST", "/v1/accounts/unlock", `{"logon": "x"} {}`, "", "", 400, "more than one"},
		{"no logon", "POST", "/v1/accounts/unlock", `{}`, "", "", 400, "logon is required"},
		{"unknown account", "POST", "/v1/accounts/password", `{"logon": "CONTOSO\\nobody", "password": "y"}`, "", "", 404, "not found"},
		{"empty password", "POST", "/v1/accounts/password", `{"logon": "CONTOSO\\svc-sync", "password": ""}`, "", "", 400, "password is required"},
		{"bad grant", "POST", "/v1/accounts/grant", `{"logon": "CONTOSO\\svc-sync", "impersonate": "some"}`, "", "", 400, "impersonate"},
		{"fault type", "POST", "/v1/faults", `{"fault": {"type": "Boom"}}`, "", "", 400, "fault type"},
		{"fault code", "POST", "/v1/faults", `{"fault": {"type": "SOAPFault", "code": "ErrorNope"}}`, "", "", 400, "known EWS error code"},
		{"fault status", "POST", "/v1/faults", `{"fault": {"type": "HTTPStatus", "status": 200}}`, "", "", 400, "want 400 to 599"},
		{"fault operation", "POST", "/v1/faults", `{"fault": {"type": "DropConnection"}, "operation": "GetFolders"}`, "", "", 400, "not an EWS operation"},
		{"fault call", "POST", "/v1/faults", `{"fault": {"type": "DropConnection"}, "call": -1}`, "", "", 400, "calls count from 1"},
		{"latency", "PUT", "/v1/latency", `{"fixed": "-5ms"}`, "", "", 400, "duration of 0 or more"},
		{"item folder", "POST", "/v1/items", `{"mailbox": "alice@contoso.example", "folder": "attic", "subject": "x"}`, "", "", 404, "folder"},
		{"items mailbox", "GET", "/v1/items?mailbox=nobody@contoso.example&folder=inbox", "", "", "", 404, "mailbox"},
		{"text body", "POST", "/v1/accounts/unlock", `{"logon": "x"}`, "text/plain", "", 415, "application/json"},
		{"foreign host", "GET", "/v1/stats", "", "", "evil.example", 403, "not an IP address or localhost"},
		{"unknown path", "GET", "/v1/nothing", "", "", "", 404, "no such path"},
		{"wrong method", "GET", "/v1/faults", "", "", "", 405, "method not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(tt.method, c.url+tt.path, strings.NewReader(tt.body))
			ct := tt.ctype
			if ct == "" && tt.body != "" {
				ct = "application/json"
			}
			if ct != "" {
				r.Header.Set("Content-Type", ct)
			}
			if tt.host != "" {
				r.Host = tt.host
			}
			res, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out struct{ Error string }
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			if res.StatusCode != tt.status || !strings.Contains(out.Error, tt.want) {
				t.Errorf("%s %s = %d %q, want %d with an error containing %q", tt.method, tt.path, res.StatusCode, out.Error, tt.status, tt.want)
			}
		})
	}
}

// TestControlNotificationFaults: the control API expires a mailbox's
// subscriptions, makes them lose their events and drops open streams, as
// Server.ExpireSubscriptions, LoseEvents and DropStreams do; GetEvents then
// answers as Exchange would.
func TestControlNotificationFaults(t *testing.T) {
	s := newTestServer(t)
	c := newControl(t, s)
	hdr := version("Exchange2013_SP1") + impersonate("PrimarySmtpAddress", alice)
	subscribe := func() (id, wm string) {
		t.Helper()
		r := do(t, s, nil, req{user: testSvc, pass: testPassword, body: envelope(hdr, `<m:Subscribe><m:PullSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="inbox"/></t:FolderIds>`+
			`<t:EventTypes><t:EventType>CreatedEvent</t:EventType></t:EventTypes><t:Timeout>30</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>`)})
		check(t, r, ok1())
		return find(t, r.body, "SubscriptionId").trimmed(), find(t, r.body, "Watermark").trimmed()
	}
	getEvents := func(id, wm string) resp {
		t.Helper()
		return do(t, s, nil, req{user: testSvc, pass: testPassword, body: envelope(hdr, `<m:GetEvents><m:SubscriptionId>`+id+`</m:SubscriptionId><m:Watermark>`+wm+`</m:Watermark></m:GetEvents>`)})
	}

	id, wm := subscribe()
	var lost map[string]int
	c.ok("POST", "/v1/notifications/lose-events", `{"mailbox": "`+alice+`"}`, &lost)
	if lost["lost"] != 1 {
		t.Errorf("lose-events answered %v, want lost 1", lost)
	}
	check(t, getEvents(id, wm), fails(ews.ErrorMissedNotificationEvents))

	id, wm = subscribe()
	var expired map[string]int
	c.ok("POST", "/v1/notifications/expire", `{"mailbox": "`+alice+`"}`, &expired)
	if expired["expired"] < 1 {
		t.Errorf("expire answered %v, want at least the one subscription", expired)
	}
	check(t, getEvents(id, wm), fails(ews.ErrorSubscriptionNotFound))

	var dropped map[string]int
	c.ok("POST", "/v1/notifications/drop-streams", "{}", &dropped)
	if n, ok := dropped["dropped"]; !ok || n != 0 {
		t.Errorf("drop-streams with no stream open answered %v, want dropped 0", dropped)
	}
	for _, tc := range []struct{ path, body string }{
		{"/v1/notifications/expire", `{"mailbox": "nobody@contoso.example"}`},
		{"/v1/notifications/lose-events", `{"mailbox": "nobody@contoso.example"}`},
	} {
		if st, b := c.call("POST", tc.path, tc.body, nil); st != http.StatusNotFound || !strings.Contains(b, "nobody@contoso.example") {
			t.Errorf("POST %s %s = %d %s, want 404 naming the mailbox", tc.path, tc.body, st, b)
		}
	}
	if st, b := c.call("POST", "/v1/notifications/expire", `{}`, nil); st != http.StatusBadRequest || !strings.Contains(b, "mailbox") {
		t.Errorf("expire without a mailbox = %d %s, want 400 naming mailbox", st, b)
	}
}
