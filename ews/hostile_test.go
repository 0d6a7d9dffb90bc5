package ews_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

// xmlValues parses an envelope with encoding/xml (independent of etree) and
// returns every attribute value and every element's text, as a reader of
// the XML sees them after attribute-value and line-end normalisation.
func xmlValues(t *testing.T, body []byte) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(body))
	var out []string
	var text []*strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("request is not well-formed XML: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			for _, a := range tok.Attr {
				out = append(out, a.Value)
			}
			text = append(text, &strings.Builder{})
		case xml.CharData:
			if len(text) > 0 {
				text[len(text)-1].Write(tok)
			}
		case xml.EndElement:
			out = append(out, text[len(text)-1].String())
			text = text[:len(text)-1]
		}
	}
	return out
}

// TestHostileValues sends every user-supplied string of every operation
// with characters that break naive XML writers. Each call must either fail
// with ErrInvalidRequest before anything is sent, or send well-formed XML
// from which an XML reader gets back exactly the value given.
func TestHostileValues(t *testing.T) {
	f := newFakeEWS(t, soapReply(http.StatusInternalServerError, []byte("not xml")))
	values := []string{
		"<tag>", "a & b", "&amp;", "]]>", "<![CDATA[x]]>", `"double" 'single'`,
		"line\nbreak", "carriage\rreturn", "crlf\r\nend", "tab\there", "nul\x00", "bell\x07",
		"bad\xffutf8", "\ufffe", "\uffff", "surrogate\xed\xa0\x80",
	}
	// Addresses go through a stricter syntax check; these are valid
	// addr-specs with characters XML must escape, or hostile ones.
	addrs := []string{"a&b@contoso.example", "o'neil@contoso.example", "x@contoso.example<", "a\x00@contoso.example",
		"\ufffe@contoso.example", "a\uffff@contoso.example", "bad\xff@contoso.example", "tab\t@contoso.example"}

	type call func(ctx context.Context, c *ews.Client, v string) error
	texts := map[string]call{
		"CreateItem Subject": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.CreateItem(ctx, &ews.CreateItemRequest{Messages: []ews.Message{{Subject: v}}})
			return err
		},
		"CreateItem Body": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.CreateItem(ctx, &ews.CreateItemRequest{Messages: []ews.Message{{Body: ews.Body{Content: v}}}})
			return err
		},
		"CreateItem ItemClass": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.CreateItem(ctx, &ews.CreateItemRequest{Messages: []ews.Message{{ItemClass: v}}})
			return err
		},
		"CreateItem Categories": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.CreateItem(ctx, &ews.CreateItemRequest{Messages: []ews.Message{{Categories: []string{v}}}})
			return err
		},
		"GetItem ItemId": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.GetItem(ctx, &ews.GetItemRequest{ItemIDs: []ews.ItemID{{ID: v}}})
			return err
		},
		"DeleteItem ChangeKey": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.DeleteItem(ctx, &ews.DeleteItemRequest{ItemIDs: []ews.ItemID{{ID: "AAMk", ChangeKey: v}}, DeleteType: ews.HardDelete})
			return err
		},
		"GetFolder FolderId": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.GetFolder(ctx, &ews.GetFolderRequest{FolderIDs: []ews.FolderID{{ID: v}}})
			return err
		},
		"FindItem distinguished ChangeKey": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.FindItem(ctx, &ews.FindItemRequest{ParentFolderIDs: []ews.FolderID{{Distinguished: ews.FolderInbox, ChangeKey: v}}})
			return err
		},
		"FindFolder FieldURI": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.FindFolder(ctx, &ews.FindFolderRequest{ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderRoot)},
				AdditionalProperties: []ews.FieldURI{ews.FieldURI("folder:" + v)}})
			return err
		},
		"ResolveNames UnresolvedEntry": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.ResolveNames(ctx, &ews.ResolveNamesRequest{UnresolvedEntry: v})
			return err
		},
		"ConvertId Id": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.ConvertID(ctx, &ews.ConvertIDRequest{DestinationFormat: ews.FormatEwsID,
				SourceIDs: []ews.AlternateID{{Format: ews.FormatEwsID, ID: v, Mailbox: "a@contoso.example"}}})
			return err
		},
	}
	addrCalls := map[string]call{
		"Impersonate PrimarySmtpAddress": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox), ews.Impersonate(ews.PrimarySmtpAddress(v)))
			return err
		},
		"Impersonate PrincipalName": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox), ews.Impersonate(ews.PrincipalName(v)))
			return err
		},
		"GetFolder Mailbox": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.Folder(ctx, ews.FolderID{Distinguished: ews.FolderInbox, Mailbox: v})
			return err
		},
		"CreateItem ToRecipients": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.CreateItem(ctx, &ews.CreateItemRequest{Messages: []ews.Message{{Subject: "s", ToRecipients: []string{v}}}})
			return err
		},
		"ConvertId Mailbox": func(ctx context.Context, c *ews.Client, v string) error {
			_, err := c.ConvertID(ctx, &ews.ConvertIDRequest{DestinationFormat: ews.FormatEwsID,
				SourceIDs: []ews.AlternateID{{Format: ews.FormatEwsID, ID: "AAMk", Mailbox: v}}})
			return err
		},
	}
	attrFields := map[string]bool{"GetItem ItemId": true, "DeleteItem ChangeKey": true, "GetFolder FolderId": true,
		"FindItem distinguished ChangeKey": true, "FindFolder FieldURI": true, "ConvertId Id": true, "ConvertId Mailbox": true}
	c := newClient(t, f, ews.WithRetryPolicy(ews.NoRetries()))
	check := func(t *testing.T, name string, fn call, v string, want string) {
		t.Helper()
		before := len(f.Requests())
		err := fn(context.Background(), c, v)
		reqs := f.Requests()
		if errors.Is(err, ews.ErrInvalidRequest) {
			if len(reqs) != before {
				t.Errorf("%s(%q) = %v, but a request was sent", name, v, err)
			}
			return
		}
		if len(reqs) != before+1 {
			t.Fatalf("%s(%q) = %v after %d requests, want one request or ErrInvalidRequest", name, v, err, len(reqs)-before)
		}
		body := reqs[len(reqs)-1].Body
		// XML readers turn a literal CR into LF, and a literal tab or line
		// break in an attribute into a space: those must be character
		// references. The envelope itself has no line breaks or tabs.
		if bytes.ContainsRune(body, '\r') || (attrFields[name] && bytes.ContainsAny(body, "\t\n")) {
			t.Errorf("%s(%q) sent a literal CR, or a tab or line feed in an attribute, which the server would normalise:\n%q", name, v, body)
		}
		if got := xmlValues(t, body); !slices.Contains(got, want) {
			t.Errorf("%s(%q) sent a request that does not carry the value unchanged; XML values: %q", name, v, got)
		}
	}
	for name, fn := range texts {
		t.Run(name, func(t *testing.T) {
			for _, v := range values {
				want := v
				if name == "FindFolder FieldURI" {
					want = "folder:" + v
				}
				check(t, name, fn, v, want)
			}
		})
	}
	for name, fn := range addrCalls {
		t.Run(name, func(t *testing.T) {
			for _, v := range append(addrs, values...) {
				check(t, name, fn, v, v)
			}
		})
	}
}
