package org_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/org"
)

func TestImpersonationIdentity(t *testing.T) {
	const (
		smtp = "anna@contoso.com"
		upn  = "anna@corp.contoso.com"
		sid  = "S-1-5-21-1-2-3-1118"
	)
	tests := []struct {
		name string
		user org.User
		want org.Identity
	}{
		{"auto prefers SID", org.User{PrimarySMTP: smtp, UPN: upn, SID: sid}, org.Identity{Kind: org.IdentitySID, Value: sid}},
		{"auto then UPN", org.User{PrimarySMTP: smtp, UPN: upn}, org.Identity{Kind: org.IdentityUPN, Value: upn}},
		{"auto then SMTP", org.User{PrimarySMTP: smtp}, org.Identity{Kind: org.IdentityPrimarySMTP, Value: smtp}},
		{"primary SMTP chosen", org.User{PrimarySMTP: smtp, SID: sid, ImpersonateBy: org.IdentityPrimarySMTP}, org.Identity{Kind: org.IdentityPrimarySMTP, Value: smtp}},
		{"SMTP chosen", org.User{PrimarySMTP: smtp, SID: sid, ImpersonateBy: org.IdentitySMTP}, org.Identity{Kind: org.IdentitySMTP, Value: smtp}},
		{"UPN chosen", org.User{PrimarySMTP: smtp, UPN: upn, SID: sid, ImpersonateBy: org.IdentityUPN}, org.Identity{Kind: org.IdentityUPN, Value: upn}},
		{"UPN missing falls back to SID", org.User{PrimarySMTP: smtp, SID: sid, ImpersonateBy: org.IdentityUPN}, org.Identity{Kind: org.IdentitySID, Value: sid}},
		{"SID missing falls back to UPN", org.User{PrimarySMTP: smtp, UPN: upn, ImpersonateBy: org.IdentitySID}, org.Identity{Kind: org.IdentityUPN, Value: upn}},
		{"SID missing falls back to SMTP", org.User{PrimarySMTP: smtp, ImpersonateBy: org.IdentitySID}, org.Identity{Kind: org.IdentityPrimarySMTP, Value: smtp}},
		{"values trimmed", org.User{PrimarySMTP: " " + smtp + " "}, org.Identity{Kind: org.IdentityPrimarySMTP, Value: smtp}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.user.ImpersonationIdentity()); diff != "" {
				t.Errorf("ImpersonationIdentity() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnumsMarshalAsNames(t *testing.T) {
	u := org.User{PrimarySMTP: "a@contoso.com", ImpersonateBy: org.IdentityUPN, Sync: org.SyncState{Status: org.NeedsRenewal, Code: "ErrorServerBusy"}}
	e := org.EmailConfiguration{AccessType: org.OnlineAppOnly, AuthMethod: org.AuthNTLM}
	b, err := json.Marshal(struct {
		U org.User
		E org.EmailConfiguration
	}{u, e})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"impersonateBy":"UPN"`, `"status":"NeedsRenewal"`, `"accessType":"OnlineAppOnly"`, `"authMethod":"NTLM"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("json.Marshal = %s, want it to contain %s", b, want)
		}
	}
	if strings.Contains(string(b), "activatedAt") {
		t.Errorf("json.Marshal = %s, want zero times omitted", b)
	}
	var back org.User
	if err := json.Unmarshal([]byte(`{"primarySmtpAddress":"a@contoso.com","impersonateBy":"upn","sync":{"status":"needsrenewal","code":"ErrorServerBusy"}}`), &back); err != nil {
		t.Fatalf("json.Unmarshal error: %v", err)
	}
	if diff := cmp.Diff(u, back); diff != "" {
		t.Errorf("json round trip mismatch (-want +got):\n%s", diff)
	}
	var s org.SyncStatus
	if err := s.UnmarshalText([]byte("Enabled")); err == nil || !strings.Contains(err.Error(), "NotActivated") {
		t.Errorf("UnmarshalText(Enabled) error = %v, want one listing the valid names", err)
	}
	if got := org.AccessType(9).String(); got != "AccessType(9)" {
		t.Errorf("AccessType(9).String() = %q, want AccessType(9)", got)
	}
	if _, err := org.AccessType(9).MarshalText(); err == nil {
		t.Errorf("AccessType(9).MarshalText() error = nil, want an error")
	}
}

func TestFingerprint(t *testing.T) {
	file := openFileStore(t, t.TempDir())
	mem := org.NewMemoryStore()
	for _, tc := range []struct {
		name   string
		fp     func(org.EmailConfiguration) string
		prefix string
	}{
		{"EmailConfiguration.Fingerprint", org.EmailConfiguration.Fingerprint, "v2p:"},
		{"FileStore", file.ConfigFingerprint, "v2:"},
		{"MemoryStore", mem.ConfigFingerprint, "v2:"},
		{"ConfigFingerprint(FileStore)", func(c org.EmailConfiguration) string { return org.ConfigFingerprint(file, c) }, "v2:"},
	} {
		t.Run(tc.name, func(t *testing.T) { testFingerprint(t, tc.fp, tc.prefix, tc.prefix == "v2p:") })
	}
}

// testFingerprint checks fingerprint on a base configuration, one that
// differs in letter case only, and each kind of change (only the password
// change when short: the store-less recipe is deliberately slow).
func testFingerprint(t *testing.T, fingerprint func(org.EmailConfiguration) string, prefix string, short bool) {
	base := validOrg().Email
	fp := fingerprint(base)
	if !strings.HasPrefix(fp, prefix) || len(fp) != len(prefix)+64 {
		t.Fatalf("fingerprint = %q, want %s and 64 hex digits", fp, prefix)
	}
	assertNoSecret(t, "Fingerprint", fp)
	same := base
	same.EWSURL = "HTTPS://MAIL.CONTOSO.COM/ews/exchange.ASMX"
	same.AccountLogon = `contoso\SVC-SYNC`
	same.AllowInsecureHTTP = true // does not decide access over https
	if got := fingerprint(same); got != fp {
		t.Errorf("fingerprint changed with letter case only: %s != %s", got, fp)
	}
	changes := map[string]func(c *org.EmailConfiguration){
		"password":     func(c *org.EmailConfiguration) { c.Password = org.NewSecret("pw2") },
		"url":          func(c *org.EmailConfiguration) { c.EWSURL = "https://mail2.contoso.com/EWS/Exchange.asmx" },
		"logon":        func(c *org.EmailConfiguration) { c.AccountLogon = `CONTOSO\other` },
		"auth":         func(c *org.EmailConfiguration) { c.AuthMethod = org.AuthBasic },
		"version":      func(c *org.EmailConfiguration) { c.ExchangeVersion = "Exchange2016" },
		"access type":  func(c *org.EmailConfiguration) { c.AccessType = org.DirectLogon },
		"tenant":       func(c *org.EmailConfiguration) { c.TenantID = "t" },
		"client":       func(c *org.EmailConfiguration) { c.ClientID = "c" },
		"secret":       func(c *org.EmailConfiguration) { c.ClientSecret = org.NewSecret("s") },
		"private key":  func(c *org.EmailConfiguration) { c.PrivateKey = org.NewSecret("k") },
		"field shift1": func(c *org.EmailConfiguration) { c.AccountLogon = `CONTOSO\svc-syncX`; c.ExchangeVersion = "" },
	}
	seen := map[string]string{fp: "base"}
	for name, change := range changes {
		if short && name != "password" {
			continue
		}
		c := base
		change(&c)
		got := fingerprint(c)
		if prev, dup := seen[got]; dup {
			t.Errorf("fingerprint after changing %s equals the one for %s", name, prev)
		}
		seen[got] = name
	}
}

// A stored fingerprint must not let its reader test password guesses: the
// stores key it with a secret of their own, so the same configuration has
// unrelated fingerprints in stores with different keys, and the same one
// in a store reopened with its key.
func TestConfigFingerprintIsKeyedByTheStore(t *testing.T) {
	c := validOrg().Email
	dir := t.TempDir()
	a := openFileStore(t, dir)
	again := openFileStore(t, dir)
	other, err := org.OpenFileStore(t.TempDir(), org.FileStoreOptions{Key: testKey(9)})
	if err != nil {
		t.Fatal(err)
	}
	if a.ConfigFingerprint(c) != again.ConfigFingerprint(c) {
		t.Errorf("ConfigFingerprint differs between two opens of one store")
	}
	fps := map[string]string{}
	for name, fp := range map[string]string{
		"file store":         a.ConfigFingerprint(c),
		"other key":          other.ConfigFingerprint(c),
		"memory store":       org.NewMemoryStore().ConfigFingerprint(c),
		"other memory store": org.NewMemoryStore().ConfigFingerprint(c),
		"no store":           c.Fingerprint(),
	} {
		if prev, dup := fps[fp]; dup {
			t.Errorf("ConfigFingerprint of %s equals that of %s", name, prev)
		}
		fps[fp] = name
	}
}

func TestCloneIsDeep(t *testing.T) {
	o := validOrg()
	c := o.Clone()
	c.Users[0].PrimarySMTP = "changed@contoso.com"
	c.Domains[0] = "changed.example"
	if o.Users[0].PrimarySMTP == "changed@contoso.com" || o.Domains[0] == "changed.example" {
		t.Errorf("Clone() shares slices with the original")
	}
	if diff := cmp.Diff(validOrg(), o); diff != "" {
		t.Errorf("original changed (-want +got):\n%s", diff)
	}
	if (*org.Organization)(nil).Clone() != nil {
		t.Errorf("nil.Clone() != nil")
	}
}

func TestIsExchangeOnline(t *testing.T) {
	for in, want := range map[string]bool{
		"https://outlook.office365.com/EWS/Exchange.asmx": true,
		"https://outlook.office.com/EWS/Exchange.asmx":    true,
		"outlook.office365.com":                           true,
		"OUTLOOK.OFFICE365.COM:443":                       true,
		"https://nam02.outlook.com/EWS/Exchange.asmx":     true,
		"https://outlook.office365.us/EWS/Exchange.asmx":  true,
		"https://mail.contoso.com/EWS/Exchange.asmx":      false,
		"https://outlook.contoso.com/EWS/Exchange.asmx":   false,
		"https://notoutlook.com/EWS/Exchange.asmx":        false,
		"": false,
	} {
		if got := org.IsExchangeOnline(in); got != want {
			t.Errorf("IsExchangeOnline(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestUserByAddress(t *testing.T) {
	o := validOrg()
	if got := o.UserByAddress("JÖRG@xn--bcher-kva.example"); got != 1 {
		t.Errorf("UserByAddress(idna form) = %d, want 1", got)
	}
	if got := o.UserByAddress("nobody@contoso.com"); got != -1 {
		t.Errorf("UserByAddress(unknown) = %d, want -1", got)
	}
}
