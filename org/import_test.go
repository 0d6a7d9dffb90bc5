package org_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/org"
)

// exportCSV is what Get-Mailbox | Select-Object ... | Export-Csv writes.
const exportCSV = "\ufeff#TYPE Selected.Microsoft.Exchange.Data.Directory.Management.Mailbox\r\n" +
	`"DisplayName","Sid","PrimarySmtpAddress","UserPrincipalName"` + "\r\n" +
	`"Anna Smith","S-1-5-21-1-2-3-1001","anna@contoso.com","anna@corp.contoso.com"` + "\r\n" +
	`"Smith, Bob","S-1-5-21-1-2-3-1002","bob@contoso.com","bob@corp.contoso.com"` + "\r\n" +
	`"Line ""Two""","","not-an-address","carl@corp.contoso.com"` + "\r\n" +
	`"Anna again","","ANNA@Contoso.COM",""` + "\r\n" +
	`"Jörg","","jörg@bücher.example",""` + "\r\n" +
	`"","S-1-5-21-1-2-3-1003","JÖRG@xn--bcher-kva.example",""` + "\r\n" +
	`"Dup SID conflict","S-1-5-21-9-9-9-9","bob@contoso.com",""` + "\r\n" +
	`"Multi` + "\r\nline\",\"\",\"dana@contoso.com\",\"\"\r\n" +
	`"No address","","",""` + "\r\n"

func TestImportCSVExchangeExport(t *testing.T) {
	o := &org.Organization{Name: "Contoso"}
	res, err := o.ImportCSV(strings.NewReader(exportCSV))
	if err != nil {
		t.Fatalf("ImportCSV error: %v", err)
	}
	want := org.ImportResult{
		Added: []org.ImportedRow{
			{Line: 3, Address: "anna@contoso.com"},
			{Line: 4, Address: "bob@contoso.com"},
			{Line: 7, Address: "jörg@bücher.example"},
			{Line: 10, Address: "dana@contoso.com"},
		},
		Updated: []org.ImportedRow{
			{Line: 8, Address: "JÖRG@xn--bcher-kva.example", Note: "same address as line 7; filled SID"},
		},
		Skipped: []org.ImportedRow{
			{Line: 6, Address: "ANNA@Contoso.COM", Note: `duplicate of line 3; kept display name "Anna Smith"`},
		},
		Rejected: []org.RowError{
			{Line: 5, Value: "not-an-address", Reason: `primary SMTP address: "not-an-address" has no @`},
			{Line: 9, Value: "bob@contoso.com", Reason: "same address as line 4 but a different SID (S-1-5-21-9-9-9-9, not S-1-5-21-1-2-3-1002); correct the row"},
			{Line: 12, Value: `No address,,,`, Reason: "the primary SMTP address is empty"},
		},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("ImportCSV result mismatch (-want +got):\n%s", diff)
	}
	wantUsers := []org.User{
		{PrimarySMTP: "anna@contoso.com", UPN: "anna@corp.contoso.com", SID: "S-1-5-21-1-2-3-1001", DisplayName: "Anna Smith"},
		{PrimarySMTP: "bob@contoso.com", UPN: "bob@corp.contoso.com", SID: "S-1-5-21-1-2-3-1002", DisplayName: "Smith, Bob"},
		{PrimarySMTP: "jörg@bücher.example", SID: "S-1-5-21-1-2-3-1003", DisplayName: "Jörg"},
		{PrimarySMTP: "dana@contoso.com", DisplayName: "Multi\nline"},
	}
	if diff := cmp.Diff(wantUsers, o.Users); diff != "" {
		t.Errorf("users after ImportCSV mismatch (-want +got):\n%s", diff)
	}
	if got := res.String(); got != "added 4, updated 1, skipped 1, rejected 3" {
		t.Errorf("String() = %q", got)
	}

	// Importing the same file again doubles nothing.
	again, err := o.ImportCSV(strings.NewReader(exportCSV))
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Added) != 0 || len(again.Updated) != 0 || len(o.Users) != 4 {
		t.Errorf("second ImportCSV: %s, %d users; want nothing added or updated and 4 users", again, len(o.Users))
	}
	if err := org.ValidateUsers(o.Users); err != nil {
		t.Errorf("ValidateUsers() after import = %v", err)
	}
}

func TestImportCSVFormats(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		added []string
		lines []int // rejected lines
	}{
		{"headerless", "anna@contoso.com\nbob@contoso.com\r\n\nbad\n", []string{"anna@contoso.com", "bob@contoso.com"}, []int{4}},
		{"headerless quoted", "\"anna@contoso.com\"\n", []string{"anna@contoso.com"}, nil},
		{"lower-case headers, other columns", "name,primarysmtpaddress,RecipientTypeDetails\nAnna,anna@contoso.com,UserMailbox\n", []string{"anna@contoso.com"}, nil},
		{"semicolon delimiter", "\"PrimarySmtpAddress\";\"DisplayName\"\n\"anna@contoso.com\";\"Smith; Anna\"\n", []string{"anna@contoso.com"}, nil},
		{"tab delimiter", "EmailAddress\tDisplayName\nanna@contoso.com\tAnna\n", []string{"anna@contoso.com"}, nil},
		{"header only", "PrimarySmtpAddress,Sid\n", nil, nil},
		{"bad quote row continues", "PrimarySmtpAddress\n\"anna@contoso.com\"\nbo\"b@contoso.com\ncarl@contoso.com\n", []string{"anna@contoso.com", "carl@contoso.com"}, []int{3}},
		{"bad sid and upn", "PrimarySmtpAddress,Sid,UserPrincipalName\na@contoso.com,S-1-x,\nb@contoso.com,,b@\nc@contoso.com,s-1-5-21-1-2-3,\n", []string{"c@contoso.com"}, []int{2, 3}},
		{"no trailing newline", "PrimarySmtpAddress\nanna@contoso.com", []string{"anna@contoso.com"}, nil},
		{"type line lower case", "#type x\nPrimarySmtpAddress\nanna@contoso.com\n", []string{"anna@contoso.com"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &org.Organization{}
			res, err := o.ImportCSV(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("ImportCSV error: %v", err)
			}
			var added []string
			for _, r := range res.Added {
				added = append(added, r.Address)
			}
			var lines []int
			for _, r := range res.Rejected {
				lines = append(lines, r.Line)
			}
			if diff := cmp.Diff(tt.added, added); diff != "" {
				t.Errorf("added mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.lines, lines); diff != "" {
				t.Errorf("rejected lines mismatch (-want +got):\n%s\n%v", diff, res.Rejected)
			}
		})
	}
}

func TestImportCSVUTF16(t *testing.T) {
	text := "\"PrimarySmtpAddress\",\"DisplayName\"\r\n\"jörg@bücher.example\",\"Jörg 😀\"\r\n"
	for _, little := range []bool{true, false} {
		var b bytes.Buffer
		units := append([]uint16{0xFEFF}, utf16.Encode([]rune(text))...)
		for _, u := range units {
			if little {
				b.Write([]byte{byte(u), byte(u >> 8)})
			} else {
				b.Write([]byte{byte(u >> 8), byte(u)})
			}
		}
		o := &org.Organization{}
		if _, err := o.ImportCSV(&b); err != nil {
			t.Fatalf("ImportCSV(UTF-16, little=%v) error: %v", little, err)
		}
		want := []org.User{{PrimarySMTP: "jörg@bücher.example", DisplayName: "Jörg 😀"}}
		if diff := cmp.Diff(want, o.Users); diff != "" {
			t.Errorf("ImportCSV(UTF-16, little=%v) users mismatch (-want +got):\n%s", little, diff)
		}
	}
}

// A UTF-16 file cut in the middle of a character is refused, not imported
// with its last character silently dropped.
func TestImportCSVUTF16OddLength(t *testing.T) {
	var b bytes.Buffer
	for _, u := range append([]uint16{0xFEFF}, utf16.Encode([]rune("PrimarySmtpAddress\r\nanna@contoso.com"))...) {
		b.Write([]byte{byte(u), byte(u >> 8)})
	}
	b.WriteByte('m') // half a UTF-16 code unit
	o := &org.Organization{}
	_, err := o.ImportCSV(&b)
	if err == nil || !strings.Contains(err.Error(), "odd number of bytes") {
		t.Fatalf("ImportCSV(UTF-16 with an odd trailing byte) = %v, want an error about the odd length", err)
	}
	if len(o.Users) != 0 {
		t.Errorf("ImportCSV imported %d users from a broken file, want none", len(o.Users))
	}
}

func TestImportCSVUnusable(t *testing.T) {
	for name, in := range map[string]string{
		"empty":             "",
		"only type line":    "#TYPE Foo\n",
		"no address column": "DisplayName,Sid\nAnna,S-1-5-21-1\n",
		"unknown header":    "foo,bar\n1,2\n",
		"broken header":     "\"PrimarySmtpAddress\n",
	} {
		t.Run(name, func(t *testing.T) {
			o := &org.Organization{Users: []org.User{{PrimarySMTP: "keep@contoso.com"}}}
			res, err := o.ImportCSV(strings.NewReader(in))
			if err == nil {
				t.Fatalf("ImportCSV(%q) = %v, nil; want an error", in, res)
			}
			if !strings.HasPrefix(err.Error(), "org: ") {
				t.Errorf("error %q does not start with the package name", err)
			}
			if len(o.Users) != 1 {
				t.Errorf("ImportCSV(%q) changed the users: %v", in, o.Users)
			}
		})
	}
}

type failingReader struct {
	data []byte
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("disk on fire")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestImportCSVReadError(t *testing.T) {
	o := &org.Organization{}
	res, err := o.ImportCSV(&failingReader{data: []byte("PrimarySmtpAddress\na@contoso.com\nb@contoso.com\n")})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("ImportCSV(failing reader) error = %v, want the read error", err)
	}
	if len(res.Added) != 2 || len(o.Users) != 2 {
		t.Errorf("ImportCSV(failing reader) = %v with %d users, want the 2 rows read before the error", res, len(o.Users))
	}
}

func TestAddUsersMerges(t *testing.T) {
	o := &org.Organization{Users: []org.User{
		{PrimarySMTP: "anna@contoso.com", Sync: org.SyncState{Status: org.Active}},
	}}
	res := o.AddUsers([]org.User{
		{PrimarySMTP: " Anna@Contoso.com ", UPN: "anna@corp.contoso.com", ImpersonateBy: org.IdentityUPN},
		{PrimarySMTP: "bob@contoso.com", SID: "s-1-5-21-1-2-3-4"},
		{PrimarySMTP: "BOB@contoso.com", SID: "S-1-5-21-1-2-3-4"},
		{PrimarySMTP: "anna@contoso.com", UPN: "other@corp.contoso.com"},
		{PrimarySMTP: "bad"},
	})
	want := org.ImportResult{
		Added:   []org.ImportedRow{{Line: 2, Address: "bob@contoso.com"}},
		Updated: []org.ImportedRow{{Line: 1, Address: "Anna@Contoso.com", Note: "same address as a user already in the organization; filled UPN, identity kind"}},
		Skipped: []org.ImportedRow{{Line: 3, Address: "BOB@contoso.com", Note: "duplicate of line 2"}},
		Rejected: []org.RowError{
			{Line: 4, Value: "anna@contoso.com", Reason: "same address as a user already in the organization but a different UPN (other@corp.contoso.com, not anna@corp.contoso.com); correct the row"},
			{Line: 5, Value: "bad", Reason: `primary SMTP address: "bad" has no @`},
		},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("AddUsers result mismatch (-want +got):\n%s", diff)
	}
	wantUsers := []org.User{
		{PrimarySMTP: "anna@contoso.com", UPN: "anna@corp.contoso.com", ImpersonateBy: org.IdentityUPN, Sync: org.SyncState{Status: org.Active}},
		{PrimarySMTP: "bob@contoso.com", SID: "S-1-5-21-1-2-3-4"},
	}
	if diff := cmp.Diff(wantUsers, o.Users); diff != "" {
		t.Errorf("users mismatch (-want +got):\n%s", diff)
	}
}

func FuzzImportCSV(f *testing.F) {
	f.Add([]byte(exportCSV))
	f.Add([]byte("anna@contoso.com\nbob@contoso.com\n"))
	f.Add([]byte("\"PrimarySmtpAddress\";\"Sid\"\n\"a@b.example\";\"S-1-5-21-1\"\n"))
	f.Add([]byte{0xFF, 0xFE, '"', 0, 'a', 0})
	f.Add([]byte("PrimarySmtpAddress\n\"unterminated\n"))
	f.Add([]byte("PrimarySmtpAddress,Sid,UserPrincipalName\na@b.example,S-1-5-21-7,a@corp.example\nc@b.example,S-1-5-21-7,c@corp.example\n"))
	f.Add([]byte("PrimarySmtpAddress,UserPrincipalName\nx@b.example,seed@corp.contoso.com\n"))
	f.Add([]byte("Mail,DisplayName\nm@b.example,Ren\xe9\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o := &org.Organization{Users: []org.User{{PrimarySMTP: "seed@contoso.com", UPN: "seed@corp.contoso.com", SID: "S-1-5-21-1-2-3-4"}}}
		if err := org.ValidateUsers(o.Users); err != nil {
			t.Fatalf("the seed organization is invalid: %v", err)
		}
		res, err := o.ImportCSV(bytes.NewReader(data))
		if err != nil && len(res.Added)+len(res.Updated)+len(res.Skipped)+len(res.Rejected) == 0 && len(o.Users) != 1 {
			t.Fatalf("ImportCSV failed (%v) but changed the users", err)
		}
		if got, want := len(o.Users), 1+len(res.Added); got != want {
			t.Fatalf("%d users after import, want 1 + %d added", got, len(res.Added))
		}
		// The invariant: whatever the input, the users an import leaves
		// pass validation (no bad address, UPN, SID, none doubled).
		if err := org.ValidateUsers(o.Users); err != nil {
			t.Fatalf("ValidateUsers after import (%v): %v", res, err)
		}
		for _, r := range res.Rejected {
			if r.Line < 1 || r.Reason == "" {
				t.Fatalf("rejected row without line or reason: %+v", r)
			}
			if len(r.Value) > 210 || len(r.Reason) > 1200 {
				t.Fatalf("rejected row quotes too much: value %d bytes, reason %d bytes", len(r.Value), len(r.Reason))
			}
		}
	})
}

// An import rejects, with its line, a row whose SID or UPN belongs to
// another user, instead of adding it and leaving an organization that
// Validate refuses.
func TestImportRejectsIdentityOfAnotherUser(t *testing.T) {
	existing := []org.User{{PrimarySMTP: "anna@contoso.com", UPN: "anna@corp.contoso.com", SID: "S-1-5-21-1-2-3-1001"}}
	for _, tc := range []struct {
		name string
		csv  string
		want []org.RowError
		add  int
	}{
		{"same SID on two new addresses",
			"PrimarySmtpAddress,Sid\nbob@contoso.com,S-1-5-21-9-9-9-1\ncarl@contoso.com,s-1-5-21-9-9-9-1\n",
			[]org.RowError{{Line: 3, Value: "carl@contoso.com", Reason: "SID s-1-5-21-9-9-9-1 is listed twice (also line 2); each mailbox has its own SID; correct or remove one"}}, 1},
		{"same UPN on two new addresses",
			"PrimarySmtpAddress,UserPrincipalName\nbob@contoso.com,x@corp.contoso.com\ncarl@contoso.com,X@Corp.Contoso.com\n",
			[]org.RowError{{Line: 3, Value: "carl@contoso.com", Reason: "user principal name X@Corp.Contoso.com is listed twice (also line 2); each mailbox has its own UPN; correct or remove one"}}, 1},
		{"SID of an existing user",
			"PrimarySmtpAddress,Sid\nbob@contoso.com,S-1-5-21-1-2-3-1001\n",
			[]org.RowError{{Line: 2, Value: "bob@contoso.com", Reason: "SID S-1-5-21-1-2-3-1001 is listed twice (also a user already in the organization); each mailbox has its own SID; correct or remove one"}}, 0},
		{"filling a UPN another user holds",
			"PrimarySmtpAddress,UserPrincipalName\nbob@contoso.com\nbob@contoso.com,anna@corp.contoso.com\n",
			[]org.RowError{{Line: 3, Value: "bob@contoso.com", Reason: "user principal name anna@corp.contoso.com is listed twice (also a user already in the organization); each mailbox has its own UPN; correct or remove one"}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &org.Organization{Users: slices.Clone(existing)}
			res, err := o.ImportCSV(strings.NewReader(tc.csv))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, res.Rejected); diff != "" {
				t.Errorf("ImportCSV rejected (-want +got):\n%s", diff)
			}
			if len(res.Added) != tc.add {
				t.Errorf("ImportCSV added %d, want %d", len(res.Added), tc.add)
			}
			if err := org.ValidateUsers(o.Users); err != nil {
				t.Errorf("ValidateUsers after ImportCSV = %v, want nil", err)
			}
		})
	}
}

func TestAddUsersRejectsWhatValidateRefuses(t *testing.T) {
	o := &org.Organization{}
	res := o.AddUsers([]org.User{
		{PrimarySMTP: "a@contoso.com", ImpersonateBy: org.IdentityKind(42)},
		{PrimarySMTP: "b@contoso.com", Sync: org.SyncState{Status: org.SyncStatus(9)}},
		{PrimarySMTP: "c@contoso.com", SID: "S-1-5-21-5"},
		{PrimarySMTP: "d@contoso.com", SID: "S-1-5-21-5"},
	})
	if len(res.Added) != 1 || len(res.Rejected) != 3 {
		t.Errorf("AddUsers = %v %+v, want 1 added and 3 rejected", res, res.Rejected)
	}
	for i, want := range []int{1, 2, 4} {
		if i < len(res.Rejected) && res.Rejected[i].Line != want {
			t.Errorf("Rejected[%d].Line = %d, want %d", i, res.Rejected[i].Line, want)
		}
	}
	if err := org.ValidateUsers(o.Users); err != nil {
		t.Errorf("ValidateUsers after AddUsers = %v, want nil", err)
	}
}

func TestImportCSVWindows1252(t *testing.T) {
	// Export-Csv of Windows PowerShell 5.1 writes the ANSI code page:
	// é is 0xE9, € is 0x80, ß is 0xDF.
	in := "PrimarySmtpAddress,DisplayName\r\nrene@contoso.com,Ren\xe9 M\xfcller \x80\r\nanna@contoso.com,Anna Gro\xdf\r\nutf8@contoso.com,Jörg\r\n"
	o := &org.Organization{}
	res, err := o.ImportCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 3 || len(res.Rejected) != 0 {
		t.Fatalf("ImportCSV = %v %+v, want 3 added", res, res.Rejected)
	}
	want := []string{"René Müller €", "Anna Groß", "Jörg"}
	for i, u := range o.Users {
		if u.DisplayName != want[i] {
			t.Errorf("user %d DisplayName = %q, want %q", i, u.DisplayName, want[i])
		}
	}
}

func TestImportCSVClipsHugeFields(t *testing.T) {
	huge := strings.Repeat("x", 10<<20)
	o := &org.Organization{}
	res, err := o.ImportCSV(strings.NewReader("PrimarySmtpAddress,Sid\n" + huge + "\nok@contoso.com," + huge + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 2 {
		t.Fatalf("ImportCSV = %v, want 2 rejected", res)
	}
	for _, r := range res.Rejected {
		if len(r.Value) > 210 || len(r.Reason) > 400 {
			t.Errorf("RowError line %d: Value %d bytes, Reason %d bytes; want both clipped", r.Line, len(r.Value), len(r.Reason))
		}
	}
}

// FuzzAddUsers asserts the import invariant for AddUsers too: whatever the
// rows, the users it leaves pass ValidateUsers.
func FuzzAddUsers(f *testing.F) {
	f.Add("a@contoso.com", "a@corp.contoso.com", "S-1-5-21-1", 0, 0, "b@contoso.com", "a@corp.contoso.com", "S-1-5-21-2", 3, 1)
	f.Add("a@bücher.example", "", "S-1-5-21-1", 0, 0, "A@xn--bcher-kva.example", "x@y.example", "s-1-5-21-1", 9, 7)
	f.Add("a@con\u200btoso.com", "", "", 0, 0, "a@contoso.com", "", "", 0, 0)
	f.Fuzz(func(t *testing.T, addr1, upn1, sid1 string, kind1, status1 int, addr2, upn2, sid2 string, kind2, status2 int) {
		o := &org.Organization{Users: []org.User{{PrimarySMTP: "seed@contoso.com", UPN: "seed@corp.contoso.com", SID: "S-1-5-21-1-2-3-4"}}}
		rows := []org.User{
			{PrimarySMTP: addr1, UPN: upn1, SID: sid1, ImpersonateBy: org.IdentityKind(kind1), Sync: org.SyncState{Status: org.SyncStatus(status1)}},
			{PrimarySMTP: addr2, UPN: upn2, SID: sid2, ImpersonateBy: org.IdentityKind(kind2), Sync: org.SyncState{Status: org.SyncStatus(status2)}},
			{PrimarySMTP: addr1, UPN: upn2, SID: sid2},
			{PrimarySMTP: addr2, UPN: upn1, SID: sid1},
		}
		res := o.AddUsers(rows)
		if n := len(res.Added) + len(res.Updated) + len(res.Skipped) + len(res.Rejected); n != len(rows) {
			t.Fatalf("AddUsers accounted for %d of %d rows: %v", n, len(rows), res)
		}
		if err := org.ValidateUsers(o.Users); err != nil {
			t.Fatalf("ValidateUsers after AddUsers (%v): %v", res, err)
		}
	})
}
