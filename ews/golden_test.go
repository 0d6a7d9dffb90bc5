package ews_test

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/requests")

// goldenOp is one operation call whose request is compared with a golden
// file; reply is the canned response file the fake server answers with.
type goldenOp struct {
	name  string
	reply string
	call  func(ctx context.Context, c *ews.Client) error
}

func goldenOps() []goldenOp {
	drafts := ews.DistinguishedFolder(ews.FolderDrafts)
	return []goldenOp{
		{"getfolder", "getfolder-inbox.xml", func(ctx context.Context, c *ews.Client) error {
			_, err := c.GetFolder(ctx, &ews.GetFolderRequest{FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}})
			return err
		}},
		{"getfolder-batch", "getfolder-batch-mixed.xml", func(ctx context.Context, c *ews.Client) error {
			_, err := c.GetFolder(ctx, &ews.GetFolderRequest{
				Shape:                ews.ShapeDefault,
				AdditionalProperties: []ews.FieldURI{ews.FieldFolderUnreadCount},
				FolderIDs: []ews.FolderID{
					ews.DistinguishedFolder(ews.FolderMsgFolderRoot),
					{Distinguished: ews.FolderInbox, Mailbox: "shared&co@contoso.example"},
					{ID: "AAMkADk0Fld=", ChangeKey: "AQAAAA=="},
				}})
			return err
		}},
		{"findfolder", "findfolder.xml", func(ctx context.Context, c *ews.Client) error {
			_, err := c.FindFolder(ctx, &ews.FindFolderRequest{
				ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderMsgFolderRoot)},
				Traversal:       ews.FolderDeep, Shape: ews.ShapeDefault, Page: &ews.PageView{MaxEntries: 100},
			})
			return err
		}},
		{"finditem", "finditem-page1.xml", func(ctx context.Context, c *ews.Client) error {
			_, err := c.FindItem(ctx, &ews.FindItemRequest{
				ParentFolderIDs:      []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)},
				AdditionalProperties: []ews.FieldURI{ews.FieldItemSubject, ews.FieldItemDateTimeReceived},
				Page:                 &ews.PageView{MaxEntries: 2, Offset: 0},
			})
			return err
		}},
		{"getitem", "getitem.xml", func(ctx context.Context, c *ews.Client) error {
			_, err := c.GetItem(ctx, &ews.GetItemRequest{
				ItemIDs: []ews.ItemID{{ID: "AAMkItem1=", ChangeKey: "CQAAAB1="}, {ID: "AAMkGone="}},
				Shape:   ews.ShapeDefault, AdditionalProperties: []ews.FieldURI{ews.FieldItemSubject},
			})
			return err
		}},
		{"createitem", "createitem.xml", func(ctx context.Context, c *ews.Client) error {
			_, err := c.CreateItem(ctx, &ews.CreateItemRequest{
				SavedItemFolderID: &drafts, MessageDisposition: ews.SaveOnly,
				Messages: []ews.Message{{
					Subject:      `scc health check <probe> & "quotes"`,
					Body:         ews.Body{Type: ews.BodyText, Content: "probe ]]> <![CDATA[ x ]]>"},
					Categories:   []string{"scc"},
					ToRecipients: []string{"alice@contoso.example"},
				}},
			})
			return err
		}},
		{"deleteitem", "deleteitem.xml", func(ctx context.Context, c *ews.Client) error {
			_, err := c.DeleteItem(ctx, &ews.DeleteItemRequest{
				ItemIDs:    []ews.ItemID{{ID: "AAMkDraft1=", ChangeKey: "CQAAABYAAAB="}, {ID: "AAMkGone="}},
				DeleteType: ews.HardDelete,
			})
			return err
		}},
		{"convertid", "convertid.xml", func(ctx context.Context, c *ews.Client) error {
			_, err := c.ConvertID(ctx, &ews.ConvertIDRequest{
				DestinationFormat: ews.FormatEwsID,
				SourceIDs:         []ews.AlternateID{{Format: ews.FormatHexEntryID, ID: "00000000A7B1D4", Mailbox: "alice@contoso.example"}},
			})
			return err
		}},
		{"resolvenames", "resolvenames.xml", func(ctx context.Context, c *ews.Client) error {
			_, err := c.ResolveNames(ctx, &ews.ResolveNamesRequest{UnresolvedEntry: "alice@contoso.example", SearchScope: ews.ScopeActiveDirectory})
			return err
		}},
	}
}

// impersonations are the variants every golden operation is recorded with.
var impersonations = []struct {
	name string
	opts []ews.CallOption
}{
	{"", nil},
	{"primarysmtpaddress", []ews.CallOption{ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example"))}},
	{"smtpaddress", []ews.CallOption{ews.Impersonate(ews.SmtpAddress("alice.alias@contoso.example"))}},
	{"principalname", []ews.CallOption{ews.Impersonate(ews.PrincipalName("alice@corp.contoso.example"))}},
	{"sid", []ews.CallOption{ews.Impersonate(ews.SID("S-1-5-21-1493619105-1843311271-3936346804-1118"))}},
}

func TestGoldenRequests(t *testing.T) {
	for _, op := range goldenOps() {
		for _, imp := range impersonations {
			name := op.name
			if imp.name != "" {
				name += "-impersonate-" + imp.name
			}
			t.Run(name, func(t *testing.T) {
				f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/"+op.reply)))
				c := newClient(t, f).With(imp.opts...)
				if err := op.call(context.Background(), c); err != nil {
					t.Fatalf("%s = %v", op.name, err)
				}
				checkGolden(t, name, f.Requests()[0].Body)
			})
		}
	}
}

// TestGoldenHeaderOptions records the client-wide header options.
func TestGoldenHeaderOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []ews.Option
		call func(context.Context, *ews.Client) error
	}{
		{"getfolder-timezone-version", []ews.Option{ews.WithTimeZoneContext("W. Europe Standard Time"), ews.WithServerVersion(ews.Exchange2010_SP2)},
			func(ctx context.Context, c *ews.Client) error {
				_, err := c.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox), ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
				return err
			}},
		// DeleteItem does not take t:TimeZoneContext (services.wsdl): the
		// client leaves it out.
		{"deleteitem-timezone-omitted", []ews.Option{ews.WithTimeZoneContext("W. Europe Standard Time")},
			func(ctx context.Context, c *ews.Client) error {
				_, err := c.DeleteItem(ctx, &ews.DeleteItemRequest{ItemIDs: []ews.ItemID{{ID: "AAMkDraft1="}, {ID: "AAMkGone="}}, DeleteType: ews.MoveToDeletedItems})
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := "getfolder-inbox.xml"
			if strings.HasPrefix(tt.name, "deleteitem") {
				reply = "deleteitem.xml"
			}
			f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/"+reply)))
			c := newClient(t, f, tt.opts...)
			if err := tt.call(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name, f.Requests()[0].Body)
		})
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "requests", name+".xml")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ews -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("request differs from %s (run go test ./ews -update and review the diff):\n%s", path,
			cmp.Diff(splitTags(want), splitTags(got)))
	}
}

// splitTags breaks XML into one tag per line for a readable diff.
func splitTags(b []byte) []string {
	return strings.Split(strings.ReplaceAll(string(b), "><", ">\n<"), "\n")
}

// TestGoldenFilesAllUsed fails on golden files no test writes any more.
func TestGoldenFilesAllUsed(t *testing.T) {
	want := map[string]bool{"getfolder-timezone-version.xml": true, "deleteitem-timezone-omitted.xml": true}
	for _, c := range opCases() {
		want[c.name+".xml"] = true
	}
	for _, op := range goldenOps() {
		for _, imp := range impersonations {
			name := op.name
			if imp.name != "" {
				name += "-impersonate-" + imp.name
			}
			want[name+".xml"] = true
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "requests", "*.xml"))
	for _, f := range files {
		if !want[filepath.Base(f)] {
			t.Errorf("%s is not produced by any golden test; delete it", f)
		}
	}
	_ = http.StatusOK
}
