package scctest

import (
	"encoding/base64"
	"testing"

	"github.com/sccsync/scc/ews"
)

// TestConvertIdOwner: ConvertId only checks the Mailbox attribute's
// format; the answer names the mailbox the id belongs to, whatever address
// the client sent.
func TestConvertIdOwner(t *testing.T) {
	s := newTestServer(t)
	id, err := s.AddItem(bob, "inbox", Message{Subject: "x"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(id.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The same record naming a mailbox index this server does not have.
	foreign := append([]byte(nil), raw...)
	foreign[3], foreign[4], foreign[5], foreign[6] = 0x7f, 0xff, 0xff, 0xff
	tests := []struct {
		name, mailbox, id string
		code              ews.ResponseCode
		owner             string
	}{
		{"the owner's address", bob, id.ID, ews.NoError, bob},
		{"another mailbox's address", alice, id.ID, ews.NoError, bob},
		{"an address of no mailbox", "nobody@elsewhere.example", id.ID, ews.NoError, bob},
		{"not an address", "DUMMY", id.ID, ews.ErrorInvalidSmtpAddress, ""},
		{"an id of no mailbox here", bob, base64.StdEncoding.EncodeToString(foreign), ews.ErrorInvalidIdMalformed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, nil, svcReq("", `<m:ConvertId DestinationFormat="HexEntryId"><m:SourceIds><t:AlternateId Format="EwsId" Id="`+tc.id+`" Mailbox="`+tc.mailbox+`"/></m:SourceIds></m:ConvertId>`))
			if len(r.codes) != 1 || r.codes[0] != tc.code {
				t.Fatalf("ConvertId(%s, Mailbox=%s) codes = %v, want [%s]\n%s", tc.name, tc.mailbox, r.codes, tc.code, r.body)
			}
			if tc.owner == "" {
				return
			}
			if got := find(t, r.body, "AlternateId").attrOr("Mailbox", ""); got != tc.owner {
				t.Errorf("ConvertId(Mailbox=%s) answered Mailbox = %q, want the owner %q", tc.mailbox, got, tc.owner)
			}
		})
	}
}
