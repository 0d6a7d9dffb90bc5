package scctest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestMailboxHidesPassword: no fmt verb, JSON or slog rendering of a
// Mailbox (or a struct holding one) shows its password.
func TestMailboxHidesPassword(t *testing.T) {
	m := Mailbox{PrimarySMTP: "alice@contoso.example", UPN: "alice@ad.contoso.example", Password: "alice-Pa55"}
	holder := struct{ M Mailbox }{m}
	var shown []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		shown = append(shown, fmt.Sprintf(verb, m), fmt.Sprintf(verb, &m), fmt.Sprintf(verb, holder))
	}
	j, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "mailbox", m)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "mailbox", m)
	shown = append(shown, string(j), buf.String())
	for _, s := range shown {
		if strings.Contains(s, "alice-Pa55") {
			t.Errorf("the password shows in %s", s)
		}
	}
	if got := fmt.Sprintf("%#v", m); !strings.Contains(got, "alice@ad.contoso.example") {
		t.Errorf("%%#v of a Mailbox = %s, want its fields", got)
	}
}
