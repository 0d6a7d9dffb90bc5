package org_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/org"
)

func validOrg() *org.Organization {
	return &org.Organization{
		Name:    "Contoso",
		Domains: []string{"contoso.com", "bücher.example"},
		Users: []org.User{
			{PrimarySMTP: "anna@contoso.com", UPN: "anna@corp.contoso.com", SID: "S-1-5-21-1493619105-1843311271-3936346804-1118"},
			{PrimarySMTP: "jörg@bücher.example"},
		},
		Email: org.EmailConfiguration{
			AccountLogon:    `CONTOSO\svc-sync`,
			Password:        org.NewSecret("pw"),
			EWSURL:          "https://mail.contoso.com/EWS/Exchange.asmx",
			ExchangeVersion: "Exchange2013_SP1",
		},
	}
}

func appOnlyConfig() org.EmailConfiguration {
	return org.EmailConfiguration{
		AccessType:   org.OnlineAppOnly,
		EWSURL:       "https://outlook.office365.com/EWS/Exchange.asmx",
		TenantID:     "72f988bf-86f1-41af-91ab-2d7cd011db47",
		ClientID:     "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
		ClientSecret: org.NewSecret("s3cret"),
	}
}

// fieldsOf returns the fields named by a Validate error, failing the test if
// the error is not a ValidationErrors.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve org.ValidationErrors
	if !errors.As(err, &ve) {
		t.Fatalf("Validate() error %v (%T) is not a ValidationErrors", err, err)
	}
	for _, fe := range ve {
		if fe.Problem == "" || fe.Field == "" {
			t.Errorf("FieldError %+v lacks a field or problem", fe)
		}
	}
	return ve.Fields()
}

func TestValidateValid(t *testing.T) {
	if err := validOrg().Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	o := validOrg()
	o.Email = appOnlyConfig()
	if err := o.Validate(); err != nil {
		t.Fatalf("Validate() app-only = %v, want nil", err)
	}
	o.Email.EWSURL = "HTTPS://Outlook.Office365.com/ews/exchange.ASMX"
	if err := o.Validate(); err != nil {
		t.Fatalf("Validate() with upper-case scheme and path = %v, want nil", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name   string
		change func(o *org.Organization)
		want   []string // fields, in order
	}{
		{"nothing filled", func(o *org.Organization) { *o = org.Organization{} },
			[]string{org.FieldName, org.FieldEWSURL, org.FieldAccountLogon, org.FieldPassword}},
		{"missing password", func(o *org.Organization) { o.Email.Password = org.Secret{} }, []string{org.FieldPassword}},
		{"whitespace-only password", func(o *org.Organization) { o.Email.Password = org.NewSecret("   ") }, []string{org.FieldPassword}},
		{"tab and newline password", func(o *org.Organization) { o.Email.Password = org.NewSecret("\t\r\n") }, []string{org.FieldPassword}},
		{"logon without domain", func(o *org.Organization) { o.Email.AccountLogon = "svc-sync" }, []string{org.FieldAccountLogon}},
		{"logon two backslashes", func(o *org.Organization) { o.Email.AccountLogon = `A\B\c` }, []string{org.FieldAccountLogon}},
		{"logon bad upn", func(o *org.Organization) { o.Email.AccountLogon = "svc@" }, []string{org.FieldAccountLogon}},
		{"logon spaces", func(o *org.Organization) { o.Email.AccountLogon = ` CONTOSO\svc` }, []string{org.FieldAccountLogon}},
		{"logon upn ok", func(o *org.Organization) { o.Email.AccountLogon = "svc-sync@contoso.com" }, nil},
		{"logon dns domain ok", func(o *org.Organization) { o.Email.AccountLogon = `corp.contoso.com\svc` }, nil},
		{"http not allowed", func(o *org.Organization) { o.Email.EWSURL = "http://mail.contoso.com/EWS/Exchange.asmx" }, []string{org.FieldEWSURL}},
		{"http allowed", func(o *org.Organization) {
			o.Email.EWSURL = "http://mail.contoso.com/EWS/Exchange.asmx"
			o.Email.AllowInsecureHTTP = true
		}, nil},
		{"basic over http", func(o *org.Organization) {
			o.Email.EWSURL = "http://mail.contoso.com/EWS/Exchange.asmx"
			o.Email.AllowInsecureHTTP = true
			o.Email.AuthMethod = org.AuthBasic
		}, []string{org.FieldAuthMethod}},
		{"wrong path", func(o *org.Organization) { o.Email.EWSURL = "https://mail.contoso.com/owa" }, []string{org.FieldEWSURL}},
		{"autodiscover url", func(o *org.Organization) {
			o.Email.EWSURL = "https://mail.contoso.com/autodiscover/autodiscover.xml"
		}, []string{org.FieldEWSURL}},
		{"ftp", func(o *org.Organization) { o.Email.EWSURL = "ftp://mail.contoso.com/EWS/Exchange.asmx" }, []string{org.FieldEWSURL}},
		{"query", func(o *org.Organization) { o.Email.EWSURL = "https://mail.contoso.com/EWS/Exchange.asmx?x=1" }, []string{org.FieldEWSURL}},
		{"no host", func(o *org.Organization) { o.Email.EWSURL = "https:///EWS/Exchange.asmx" }, []string{org.FieldEWSURL}},
		{"port and ip ok", func(o *org.Organization) { o.Email.EWSURL = "https://10.0.0.5:8443/EWS/Exchange.asmx" }, nil},
		{"single label host ok", func(o *org.Organization) { o.Email.EWSURL = "https://exch01/EWS/Exchange.asmx" }, nil},
		{"idn host ok", func(o *org.Organization) { o.Email.EWSURL = "https://post.bücher.example/EWS/Exchange.asmx" }, nil},
		{"bad version", func(o *org.Organization) { o.Email.ExchangeVersion = "2013" }, []string{org.FieldExchangeVersion}},
		{"version case", func(o *org.Organization) { o.Email.ExchangeVersion = "exchange2013_sp1" }, []string{org.FieldExchangeVersion}},
		{"bad domain", func(o *org.Organization) { o.Domains = append(o.Domains, "not a domain") }, []string{org.FieldDomains}},
		{"duplicate domain idna", func(o *org.Organization) { o.Domains = append(o.Domains, "xn--bcher-kva.example") }, []string{org.FieldDomains}},
		{"duplicate users", func(o *org.Organization) {
			o.Users = append(o.Users, org.User{PrimarySMTP: "ANNA@Contoso.com"}, org.User{PrimarySMTP: "jörg@xn--bcher-kva.example"})
		}, []string{"Users row 3", "Users row 4"}},
		{"bad user rows", func(o *org.Organization) {
			o.Users = append(o.Users, org.User{PrimarySMTP: "nope"}, org.User{}, org.User{PrimarySMTP: "ok@contoso.com", SID: "S-1-x"},
				org.User{PrimarySMTP: "ok2@contoso.com", UPN: "bad upn"})
		}, []string{"Users row 3", "Users row 4", "Users row 5", "Users row 6"}},
		{"duplicate sid", func(o *org.Organization) {
			o.Users = append(o.Users, org.User{PrimarySMTP: "x@contoso.com", SID: "s-1-5-21-1493619105-1843311271-3936346804-1118"})
		}, []string{"Users row 3"}},
		{"everything at once", func(o *org.Organization) {
			o.Name = ""
			o.Email.AccountLogon = "x"
			o.Email.Password = org.Secret{}
			o.Email.EWSURL = "mail.contoso.com"
			o.Users[1].PrimarySMTP = "broken"
		}, []string{org.FieldName, org.FieldEWSURL, org.FieldAccountLogon, org.FieldPassword, "Users row 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOrg()
			tt.change(o)
			got := fieldsOf(t, o.Validate())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate() fields mismatch (-want +got):\n%s\nerror: %v", diff, o.Validate())
			}
		})
	}
}

func TestValidateExchangeOnlineImpersonation(t *testing.T) {
	for _, u := range []string{
		"https://outlook.office365.com/EWS/Exchange.asmx",
		"https://outlook.office.com/EWS/Exchange.asmx",
		"https://nam12.outlook.com/EWS/Exchange.asmx",
		"https://OUTLOOK.OFFICE365.COM:443/ews/exchange.asmx",
	} {
		o := validOrg()
		o.Email.EWSURL = u
		err := o.Validate()
		if !errors.Is(err, org.ErrImpersonationRetired) {
			t.Errorf("Validate() with %s = %v, want ErrImpersonationRetired", u, err)
			continue
		}
		var fe org.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("errors.As(FieldError) failed for %v", err)
		}
		msg := err.Error()
		for _, want := range []string{"2025", "app-only OAuth", "full_access_as_app", "ExchangeImpersonation"} {
			if !strings.Contains(msg, want) {
				t.Errorf("Validate() with %s = %q, want it to mention %q", u, msg, want)
			}
		}
	}
	o := validOrg()
	o.Email.AccessType = org.DirectLogon
	o.Email.EWSURL = "https://outlook.office365.com/EWS/Exchange.asmx"
	if err := o.Validate(); !errors.Is(err, org.ErrBasicAuthRetired) {
		t.Errorf("Validate() direct logon to Exchange Online = %v, want ErrBasicAuthRetired", err)
	}
	if !slices.ContainsFunc(o.Warnings(), func(w org.FieldError) bool {
		return strings.Contains(w.Problem, "October 2026") && strings.Contains(w.Problem, "April 2027")
	}) {
		t.Errorf("Warnings() for Exchange Online = %v, want the October 2026 / April 2027 EWS timeline", o.Warnings())
	}
}

func TestValidateAppOnly(t *testing.T) {
	certPEM, keyPEM := newCert(t, time.Now().Add(365*24*time.Hour))
	_, otherKey := newCert(t, time.Now().Add(365*24*time.Hour))
	expiredCert, expiredKey := newCert(t, time.Now().Add(-time.Hour))
	tests := []struct {
		name   string
		change func(c *org.EmailConfiguration)
		want   []string
	}{
		{"secret ok", func(c *org.EmailConfiguration) {}, nil},
		{"tenant domain ok", func(c *org.EmailConfiguration) { c.TenantID = "contoso.onmicrosoft.com" }, nil},
		{"nothing", func(c *org.EmailConfiguration) { *c = org.EmailConfiguration{AccessType: org.OnlineAppOnly} },
			[]string{org.FieldEWSURL, org.FieldTenantID, org.FieldClientID, org.FieldClientSecret}},
		{"whitespace-only secret", func(c *org.EmailConfiguration) { c.ClientSecret = org.NewSecret("   ") },
			[]string{org.FieldClientSecret}},
		{"whitespace-only secret and certificate", func(c *org.EmailConfiguration) {
			c.ClientSecret = org.NewSecret(" ")
			c.CertificatePEM, c.PrivateKey = certPEM, org.NewSecret(keyPEM)
		}, []string{org.FieldClientSecret}},
		{"bad ids", func(c *org.EmailConfiguration) { c.TenantID = "not a tenant"; c.ClientID = "123" },
			[]string{org.FieldTenantID, org.FieldClientID}},
		{"certificate ok", func(c *org.EmailConfiguration) {
			c.ClientSecret = org.Secret{}
			c.CertificatePEM, c.PrivateKey = certPEM, org.NewSecret(keyPEM)
		}, nil},
		{"secret and certificate", func(c *org.EmailConfiguration) {
			c.CertificatePEM, c.PrivateKey = certPEM, org.NewSecret(keyPEM)
		}, []string{org.FieldClientSecret}},
		{"certificate without key", func(c *org.EmailConfiguration) {
			c.ClientSecret = org.Secret{}
			c.CertificatePEM = certPEM
		}, []string{org.FieldPrivateKey}},
		{"key of another certificate", func(c *org.EmailConfiguration) {
			c.ClientSecret = org.Secret{}
			c.CertificatePEM, c.PrivateKey = certPEM, org.NewSecret(otherKey)
		}, []string{org.FieldPrivateKey}},
		{"garbage certificate", func(c *org.EmailConfiguration) {
			c.ClientSecret = org.Secret{}
			c.CertificatePEM, c.PrivateKey = "hello", org.NewSecret(keyPEM)
		}, []string{org.FieldCertificate}},
		{"garbage key", func(c *org.EmailConfiguration) {
			c.ClientSecret = org.Secret{}
			c.CertificatePEM, c.PrivateKey = certPEM, org.NewSecret(testPrivateKey)
		}, []string{org.FieldPrivateKey}},
		{"expired certificate", func(c *org.EmailConfiguration) {
			c.ClientSecret = org.Secret{}
			c.CertificatePEM, c.PrivateKey = expiredCert, org.NewSecret(expiredKey)
		}, []string{org.FieldCertificate}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := appOnlyConfig()
			tt.change(&c)
			err := c.Validate()
			if diff := cmp.Diff(tt.want, fieldsOf(t, err)); diff != "" {
				t.Errorf("Validate() fields mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
			if err != nil {
				assertNoSecret(t, "Validate()", err.Error())
				if strings.Contains(err.Error(), "private-key-material") || strings.Contains(err.Error(), "BEGIN EC PRIVATE") {
					t.Errorf("Validate() quotes key material: %v", err)
				}
			}
		})
	}
	c := appOnlyConfig()
	c.EWSURL = "https://mail.contoso.com/EWS/Exchange.asmx"
	if c.Validate() != nil || len(c.Warnings()) == 0 {
		t.Errorf("app-only against on-premises host: Validate() = %v, Warnings() = %v; want nil and a warning", c.Validate(), c.Warnings())
	}
}

func TestValidateNeverEchoesURLPassword(t *testing.T) {
	o := validOrg()
	o.Email.EWSURL = "https://svc:" + testPassword + "@mail.contoso.com/EWS/Exchange.asmx"
	err := o.Validate()
	if err == nil {
		t.Fatal("Validate() with credentials in the URL = nil, want an error")
	}
	assertNoSecret(t, "Validate()", err.Error())
	o.Email.EWSURL = "https://svc:" + testPassword + "@mail.contoso.com:bad/%zz"
	err = o.Validate()
	if err == nil {
		t.Fatal("Validate() with an unparsable URL = nil, want an error")
	}
	assertNoSecret(t, "Validate()", err.Error())
	// Credentials in a query string (…?password=…, #access_token=…) are
	// not echoed either; every other problem of the URL still names it.
	for _, u := range []string{
		"https://mail.contoso.com/EWS/Exchange.asmx?password=" + testPassword,
		"http://mail.contoso.com/owa/?password=" + testPassword,
		"https://mail.contoso.com/EWS/Exchange.asmx#access_token=" + testPassword,
	} {
		o.Email.EWSURL = u
		err = o.Validate()
		if err == nil || !strings.Contains(err.Error(), "mail.contoso.com") {
			t.Fatalf("Validate() with EWS URL %s = %v, want an error naming the URL", u, err)
		}
		assertNoSecret(t, "Validate()", err.Error())
	}
}

func TestWarningsUsersOutsideDomains(t *testing.T) {
	o := validOrg()
	o.Users = append(o.Users, org.User{PrimarySMTP: "guest@fabrikam.com"}, org.User{PrimarySMTP: "x@Bücher.Example"})
	if err := o.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil (outside domains is only a warning)", err)
	}
	var fields []string
	for _, w := range o.Warnings() {
		fields = append(fields, w.Field)
	}
	if diff := cmp.Diff([]string{"Users row 3"}, fields); diff != "" {
		t.Errorf("Warnings() fields mismatch (-want +got):\n%s", diff)
	}
}

func TestValidateUsers(t *testing.T) {
	err := org.ValidateUsers([]org.User{{PrimarySMTP: "a@contoso.com"}, {PrimarySMTP: "A@CONTOSO.COM"}})
	if !errors.Is(err, org.ErrDuplicate) {
		t.Errorf("ValidateUsers(duplicates) = %v, want ErrDuplicate", err)
	}
	if err := org.ValidateUsers([]org.User{{PrimarySMTP: "a@contoso.com"}}); err != nil {
		t.Errorf("ValidateUsers(one valid) = %v, want nil", err)
	}
}

// newCert returns a self-signed ECDSA certificate and its PKCS #8 key, PEM.
func newCert(t *testing.T, notAfter time.Time) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "scc app"},
		NotBefore: notAfter.Add(-2 * 365 * 24 * time.Hour), NotAfter: notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}))
}

func TestValidationWording(t *testing.T) {
	for _, tc := range []struct {
		url, want string
		not       []string
	}{
		{"not a url", `EWS URL: "not a url" is not a URL.`, []string{"%20"}},
		{"mail.contoso.com", `EWS URL: "mail.contoso.com" is a server name, not the URL of the EWS endpoint: it needs https:// and the /EWS/Exchange.asmx path. Enter https://mail.contoso.com/EWS/Exchange.asmx.`, []string{"no server name"}},
		{"https://svc:hunter2@mail.contoso.com/EWS/Exchange.asmx", `"https://svc:[redacted]@mail.contoso.com/EWS/Exchange.asmx" contains a user name or password`, []string{"hunter2", "xxxxx"}},
		{"https://mail.contoso.com/ews/a b", `"https://mail.contoso.com/ews/a b" does not end in /EWS/Exchange.asmx.`, []string{"%20"}},
	} {
		c := org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: `CONTOSO\svc`, Password: org.NewSecret("pw"), EWSURL: tc.url}
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(EWS URL %q) = %v, want it to contain %q", tc.url, err, tc.want)
			continue
		}
		for _, n := range tc.not {
			if strings.Contains(err.Error(), n) {
				t.Errorf("Validate(EWS URL %q) = %v, want no %q", tc.url, err, n)
			}
		}
	}
	// Two problems of one field with one fix: the fix is said once.
	c := org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: `CONTOSO\svc`, Password: org.NewSecret("pw"), EWSURL: "https://ma_il:99999/EWS/Exchange.asmx"}
	err := c.Validate()
	var ve org.ValidationErrors
	if !errors.As(err, &ve) || len(ve) < 2 {
		t.Fatalf("Validate(bad host and port) = %v, want two problems", err)
	}
	fix := "Enter the address of the EWS endpoint"
	if n := strings.Count(err.Error(), fix); n != 1 {
		t.Errorf("Validate(bad host and port).Error() says the fix %d times, want once: %v", n, err)
	}
	if got := ve.Fixes(); len(got) != 1 || !strings.HasPrefix(got[0], org.FieldEWSURL+": "+fix) {
		t.Errorf("Fixes() = %q, want the EWS URL fix once", got)
	}
}
