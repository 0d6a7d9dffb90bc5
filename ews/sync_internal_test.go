package ews

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseSync feeds arbitrary bodies to the SyncFolderItems and
// SyncFolderHierarchy parsers: whatever the bytes, a response or an error
// with a message, never a panic, and a success always carries a SyncState.
func FuzzParseSync(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "responses", "sync*.xml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(syncPage(8))
	c, err := NewClient("https://mail.contoso.example/EWS/Exchange.asmx")
	if err != nil {
		f.Fatal(err)
	}
	hresp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		if soap, err := c.interpret(context.Background(), opSyncFolderItems, hresp, body); err == nil {
			r, err := parseSyncFolderItems(soap)
			switch {
			case err != nil && err.Error() == "":
				t.Error("SyncFolderItems: empty error message")
			case err == nil && r.SyncState == "":
				t.Error("SyncFolderItems: success without SyncState")
			case err == nil:
				for _, ch := range r.Changes {
					if ch.ItemID.ID == "" {
						t.Errorf("SyncFolderItems: %s change without id", ch.Type)
					}
				}
			}
		}
		if soap, err := c.interpret(context.Background(), opSyncFolderHierarchy, hresp, body); err == nil {
			r, err := parseSyncFolderHierarchy(soap)
			switch {
			case err != nil && err.Error() == "":
				t.Error("SyncFolderHierarchy: empty error message")
			case err == nil && r.SyncState == "":
				t.Error("SyncFolderHierarchy: success without SyncState")
			}
		}
	})
}

// syncPage returns a SyncFolderItems response with n changes: mostly
// creates of messages with the properties a sync engine asks for, and some
// updates, deletes and read-flag changes.
func syncPage(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" MajorVersion="15" MinorVersion="20" MajorBuildNumber="7228" MinorBuildNumber="32" Version="V2018_01_08"/></s:Header><s:Body>`)
	b.WriteString(`<m:SyncFolderItemsResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages><m:SyncFolderItemsResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>`)
	b.WriteString(`<m:SyncState>H4sIAAAAAAAEAO29B2AcSZJliZi9ktSmlFLlVlp7SsiVq1dKqf5XmpIUOmMtMvRGpERX</m:SyncState><m:IncludesLastItemInRange>false</m:IncludesLastItemInRange><m:Changes>`)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("AAMkADk0NjJjODUzLWZhMDMtNDVkMS05ZDdjLWVmMDlkYjQ1Zjc4MwBGAAAAAABSSWVKrmGUTJE+MVIvofglBwDZGACZQpSgSpyNkexYe2b7AAAAAAEMAADZGACZQpSgSpyNkexYe2b7AAAN%06d=", i)
		switch i % 8 {
		case 5:
			fmt.Fprintf(&b, `<t:Delete><t:ItemId Id="%s" ChangeKey="CQAAABYAAADZGACZQpSgSpyNkexYe2b7AAANGF8W"/></t:Delete>`, id)
		case 6:
			fmt.Fprintf(&b, `<t:ReadFlagChange><t:ItemId Id="%s" ChangeKey="CQAAABYAAADZGACZQpSgSpyNkexYe2b7AAANGF8W"/><t:IsRead>true</t:IsRead></t:ReadFlagChange>`, id)
		default:
			kind := "Create"
			if i%8 == 7 {
				kind = "Update"
			}
			fmt.Fprintf(&b, `<t:%s><t:Message><t:ItemId Id="%s" ChangeKey="CQAAABYAAADZGACZQpSgSpyNkexYe2b7AAANGF8W"/><t:ParentFolderId Id="AQMkADk0NjJjODUzLWZhMDMtNDVkMS05ZDdjLWVmMDlkYjQ1Zjc4MwAuAAADUkllSq5hlEyRPjFSL6H4JQEA2RgAmUKUoEqcjZHsWHtm+wAAAgEMAAAA" ChangeKey="AQAAAA=="/><t:ItemClass>IPM.Note</t:ItemClass><t:Subject>Quarterly report %d &amp; figures</t:Subject><t:DateTimeReceived>2024-06-03T09:%02d:00Z</t:DateTimeReceived><t:Size>%d</t:Size><t:HasAttachments>false</t:HasAttachments><t:IsRead>false</t:IsRead></t:Message></t:%s>`,
				kind, id, i, i%60, 4000+i, kind)
		}
	}
	b.WriteString(`</m:Changes></m:SyncFolderItemsResponseMessage></m:ResponseMessages></m:SyncFolderItemsResponse></s:Body></s:Envelope>`)
	return b.Bytes()
}

func TestSyncPageParses(t *testing.T) {
	c, err := NewClient("https://mail.contoso.example/EWS/Exchange.asmx")
	if err != nil {
		t.Fatal(err)
	}
	hresp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}}
	soap, err := c.interpret(context.Background(), opSyncFolderItems, hresp, syncPage(MaxSyncChanges))
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseSyncFolderItems(soap)
	if err != nil {
		t.Fatalf("parseSyncFolderItems = %v", err)
	}
	counts := map[ChangeType]int{}
	for _, ch := range r.Changes {
		counts[ch.Type]++
	}
	if len(r.Changes) != MaxSyncChanges || counts[ChangeCreate] != 320 || counts[ChangeUpdate] != 64 || counts[ChangeDelete] != 64 || counts[ChangeReadFlag] != 64 {
		t.Errorf("parsed %d changes %v, want 512: 320 Create, 64 each of Update, Delete, ReadFlagChange", len(r.Changes), counts)
	}
	if s := r.Changes[0].Item.Subject; s != "Quarterly report 0 & figures" {
		t.Errorf("first subject = %q, want %q", s, "Quarterly report 0 & figures")
	}
}

// BenchmarkParseSyncFolderItems512 is the client's cost of one full
// SyncFolderItems page (512 changes): interpret the HTTP response, parse
// the envelope and every change.
func BenchmarkParseSyncFolderItems512(b *testing.B) {
	body := syncPage(MaxSyncChanges)
	c, err := NewClient("https://mail.contoso.example/EWS/Exchange.asmx")
	if err != nil {
		b.Fatal(err)
	}
	hresp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		soap, err := c.interpret(context.Background(), opSyncFolderItems, hresp, body)
		if err != nil {
			b.Fatal(err)
		}
		r, err := parseSyncFolderItems(soap)
		if err != nil || len(r.Changes) != MaxSyncChanges {
			b.Fatal(err)
		}
	}
}
