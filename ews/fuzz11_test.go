package ews

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseIssue11Responses feeds arbitrary bodies through the parsers of
// the folder, item, attachment and user configuration operations and the
// category list parser: a response or an error, never a panic.
func FuzzParseIssue11Responses(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "responses", "*.xml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<?xml version="1.0"?><categories xmlns="CategoryList.xsd"><category name="A" color="x"/><category/></categories>`))
	c, err := NewClient("https://mail.contoso.example/EWS/Exchange.asmx")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if l, err := ParseCategoryList(body); err == nil {
			_ = l.Categories()
			if _, err := l.Ensure(Category{Name: "x", Color: 1}); err != nil {
				t.Errorf("Ensure on a parsed list = %v", err)
			}
			if _, err := ParseCategoryList(l.Bytes()); err != nil {
				t.Errorf("ParseCategoryList(Bytes()) = %v after a successful parse", err)
			}
		}
		resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}}
		soap, err := c.interpret(context.Background(), opGetItem, resp, body)
		if err != nil {
			return
		}
		check := func(name string, err error) {
			if err != nil && err.Error() == "" {
				t.Errorf("%s: empty error message", name)
			}
		}
		for want := 1; want <= 3; want++ {
			_, err := parseFolderResponse(soap, opCreateFolder, want)
			check("CreateFolder", err)
			_, err = parseStatus(soap, opDeleteFolder, want)
			check("DeleteFolder", err)
			_, err = parseGetItem(soap, want)
			check("GetItem", err)
			_, err = parseFindItem(soap, want)
			check("FindItem", err)
			_, err = parseFindFolder(soap, want)
			check("FindFolder", err)
			_, err = parseUpdateItem(soap, opUpdateItem, want)
			check("UpdateItem", err)
			_, err = parseAttachmentResponse(soap, opGetAttachment, want)
			check("GetAttachment", err)
			_, err = parseDeleteAttachment(soap, want)
			check("DeleteAttachment", err)
		}
		_, err = parseGetUserConfiguration(soap)
		check("GetUserConfiguration", err)
	})
}
