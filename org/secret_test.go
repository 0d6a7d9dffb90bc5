package org_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/sccsync/scc/org"
)

const (
	testPassword     = "Tr0ub4dor&3-password"
	testClientSecret = "client~secret~value~9876"
	testPrivateKey   = "-----BEGIN PRIVATE KEY-----\nprivate-key-material\n-----END PRIVATE KEY-----"
)

// secretOrg returns an organization whose every Secret field is set.
func secretOrg() *org.Organization {
	return &org.Organization{
		ID:   "contoso",
		Name: "Contoso",
		Users: []org.User{
			{PrimarySMTP: "anna@contoso.com"},
		},
		Email: org.EmailConfiguration{
			AccountLogon: `CONTOSO\svc-sync`,
			Password:     org.NewSecret(testPassword),
			EWSURL:       "https://mail.contoso.com/EWS/Exchange.asmx",
			ClientSecret: org.NewSecret(testClientSecret),
			PrivateKey:   org.NewSecret(testPrivateKey),
		},
	}
}

func assertNoSecret(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range []string{testPassword, testClientSecret, "private-key-material", "Tr0ub4dor"} {
		if strings.Contains(out, s) {
			t.Errorf("%s leaks a secret (%q) in:\n%s", what, s, out)
		}
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := org.NewSecret(testPassword)
	o := secretOrg()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-20v", "%T %v"} {
		assertNoSecret(t, "Sprintf("+verb+", secret)", fmt.Sprintf(verb, s))
		assertNoSecret(t, "Sprintf("+verb+", &secret)", fmt.Sprintf(verb, &s))
		assertNoSecret(t, "Sprintf("+verb+", org)", fmt.Sprintf(verb, o))
		assertNoSecret(t, "Sprintf("+verb+", *org)", fmt.Sprintf(verb, *o))
		assertNoSecret(t, "Sprintf("+verb+", email)", fmt.Sprintf(verb, o.Email))
	}
	assertNoSecret(t, "String", s.String())
	assertNoSecret(t, "GoString", s.GoString())
	assertNoSecret(t, "Sprint", fmt.Sprint(s, o, []org.Secret{s}, map[string]org.Secret{"k": s}))
	assertNoSecret(t, "Errorf", fmt.Errorf("wrapped: %v", o.Email).Error())

	if got := fmt.Sprintf("%v|%s|%q", s, s, s); got != `[redacted]|[redacted]|"[redacted]"` {
		t.Errorf("Sprintf(%%v|%%s|%%q) = %s, want [redacted]|[redacted]|\"[redacted]\"", got)
	}
	if got := fmt.Sprintf("%v", org.Secret{}); got != "" {
		t.Errorf("Sprintf(%%v, zero Secret) = %q, want empty", got)
	}
	if got := s.Reveal(); got != testPassword {
		t.Errorf("Reveal() = %q, want the value given to NewSecret", got)
	}
}

func TestSecretNeverMarshalled(t *testing.T) {
	o := secretOrg()
	j, err := json.Marshal(o)
	if err != nil {
		t.Fatalf("json.Marshal(org) error: %v", err)
	}
	assertNoSecret(t, "json.Marshal", string(j))
	if !strings.Contains(string(j), `"password":"[redacted]"`) {
		t.Errorf("json.Marshal(org) = %s, want password shown as [redacted]", j)
	}
	ji, _ := json.MarshalIndent(o.Email, "", " ")
	assertNoSecret(t, "json.MarshalIndent", string(ji))
	type wrapper struct{ P org.Secret }
	x, err := xml.Marshal(wrapper{o.Email.Password})
	if err != nil {
		t.Fatalf("xml.Marshal error: %v", err)
	}
	assertNoSecret(t, "xml.Marshal", string(x))
	text, _ := o.Email.Password.MarshalText()
	assertNoSecret(t, "MarshalText", string(text))
}

func TestSecretNeverLogged(t *testing.T) {
	o := secretOrg()
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(newHandler(&buf))
			log.Info("saving", "password", o.Email.Password, "org", o, "email", o.Email,
				slog.Any("secret", o.Email.ClientSecret), slog.Group("g", "key", o.Email.PrivateKey))
			log.With("cfg", *o).Info("again", "ptr", &o.Email.Password)
			assertNoSecret(t, name+" handler", buf.String())
			if !strings.Contains(buf.String(), "[redacted]") {
				t.Errorf("%s handler output has no [redacted] marker:\n%s", name, buf.String())
			}
		})
	}
}

func TestSecretRefusesPlaintextInput(t *testing.T) {
	for _, in := range []string{`{"password":"hunter2"}`, `{"password":"[redacted]"}`, `{"password":42}`} {
		var e org.EmailConfiguration
		err := json.Unmarshal([]byte(in), &e)
		if !errors.Is(err, org.ErrSecretFromText) {
			t.Errorf("json.Unmarshal(%s) error = %v, want ErrSecretFromText", in, err)
		}
		if !e.Password.IsZero() {
			t.Errorf("json.Unmarshal(%s) set the password", in)
		}
	}
	for _, in := range []string{`{"password":""}`, `{"password":null}`, `{}`} {
		var e org.EmailConfiguration
		if err := json.Unmarshal([]byte(in), &e); err != nil || !e.Password.IsZero() {
			t.Errorf("json.Unmarshal(%s) = %v, password zero %v; want nil error and empty password", in, err, e.Password.IsZero())
		}
	}
	var s org.Secret
	if err := s.UnmarshalText([]byte("x")); !errors.Is(err, org.ErrSecretFromText) {
		t.Errorf("UnmarshalText(x) error = %v, want ErrSecretFromText", err)
	}
}

func TestSecretEqual(t *testing.T) {
	a, b := org.NewSecret("x"), org.NewSecret("x")
	if !a.Equal(b) || a.Equal(org.NewSecret("y")) || a.Equal(org.Secret{}) {
		t.Errorf("Equal is wrong: x==x %v, x==y %v, x==zero %v", a.Equal(b), a.Equal(org.NewSecret("y")), a.Equal(org.Secret{}))
	}
	if !(org.Secret{}).IsZero() || a.IsZero() {
		t.Errorf("IsZero is wrong")
	}
}
