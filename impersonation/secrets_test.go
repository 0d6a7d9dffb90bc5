package impersonation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// TestNoSecretInOutput: the password appears in no log line, report
// rendering, error or %+v output, whether the check passes or stops.
func TestNoSecretInOutput(t *testing.T) {
	for _, password := range []string{testPassword, "Wrong-But-Secret-99"} {
		t.Run(password, func(t *testing.T) {
			f := newFake(t, scctest.ImpersonateAll())
			users := f.addMailboxes(t, 5)
			users = append(users, org.User{PrimarySMTP: "nobody@contoso.example"})
			f.srv.InjectNext(2, scctest.ServerBusy(1))
			f.cfg.Password = org.NewSecret(password)
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithLogger(logger), WithWriteProbe(),
				WithEWSOptions(ews.WithLogger(logger)))...)
			var out bytes.Buffer
			if err := rep.WriteTable(&out); err != nil {
				t.Fatal(err)
			}
			if err := rep.WriteCSV(&out); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(rep)
			out.Write(b)
			fmt.Fprintf(&out, "%v %+v %#v", err, rep, rep)
			out.Write(logs.Bytes())
			if logs.Len() == 0 {
				t.Errorf("the debug logger received nothing")
			}
			if bytes.Contains(out.Bytes(), []byte(password)) {
				t.Errorf("the password appears in the output:\n%s", out.String())
			}
		})
	}
}

// TestNoSecretFromTheURL: a password typed into the EWS URL
// (https://user:password@host/...) fails validation, and neither the
// report nor the error repeats it.
func TestNoSecretFromTheURL(t *testing.T) {
	const pw = "Url-Secret-77"
	cfg := org.EmailConfiguration{
		AccessType:   org.Impersonation,
		AccountLogon: testLogon,
		Password:     org.NewSecret(testPassword),
		EWSURL:       "https://svc-sync:" + pw + "@mail.contoso.example/EWS/Exchange.asmx",
	}
	users := []org.User{{PrimarySMTP: "anna@contoso.example"}}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rep, err := CheckUsers(context.Background(), cfg, users, WithLogger(logger))
	if err == nil {
		t.Fatal("CheckUsers() with a password in the URL succeeded, want a configuration stop")
	}
	var out bytes.Buffer
	if err := rep.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep)
	out.Write(b)
	fmt.Fprintf(&out, "%v %+v %#v", err, rep, rep)
	out.Write(logs.Bytes())
	if bytes.Contains(out.Bytes(), []byte(pw)) {
		t.Errorf("the password from the URL appears in the output:\n%s", out.String())
	}
}
