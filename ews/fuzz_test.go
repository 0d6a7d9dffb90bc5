package ews

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseResponse feeds arbitrary bodies through the client's response
// handling and every operation's parser. Whatever the bytes, it must return
// a response or an error, never panic.
func FuzzParseResponse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "responses", "*.xml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint16(200), b)
		f.Add(uint16(500), b)
	}
	for _, s := range []string{
		"",
		"<html><title>Sign in</title></html>",
		"\u1e9e\u1e9e\u212a<SCRIPT>x</script><style>",
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>`,
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>x:</faultcode><detail><MessageXml><Value/></MessageXml></detail></s:Fault></s:Body></s:Envelope>`,
		`<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"/>`,
		`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>`,
	} {
		f.Add(uint16(200), []byte(s))
		f.Add(uint16(503), []byte(s))
	}
	c, err := NewClient("https://mail.contoso.example/EWS/Exchange.asmx")
	if err != nil {
		f.Fatal(err)
	}
	ops := []*operation{opGetFolder, opFindFolder, opFindItem, opGetItem, opCreateItem, opDeleteItem, opConvertID, opResolveNames}
	statuses := []int{200, 500, 503, 401, 403, 302}
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		st := statuses[int(status)%len(statuses)]
		if status == 200 || status == 500 || status == 503 {
			st = int(status)
		}
		for _, op := range ops {
			resp := &http.Response{StatusCode: st, Header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}}
			soap, err := c.interpret(context.Background(), op, resp, body)
			if err != nil {
				if err.Error() == "" {
					t.Errorf("%s: empty error message", op.name)
				}
				continue
			}
			for want := 1; want <= 3; want++ {
				switch op {
				case opGetFolder:
					_, err = parseGetFolder(soap, want)
				case opFindFolder:
					_, err = parseFindFolder(soap, want)
				case opFindItem:
					_, err = parseFindItem(soap, want)
				case opGetItem:
					_, err = parseGetItem(soap, want)
				case opCreateItem:
					_, err = parseCreateItem(soap, want)
				case opDeleteItem:
					_, err = parseDeleteItem(soap, want)
				case opConvertID:
					_, err = parseConvertID(soap, want)
				case opResolveNames:
					_, err = parseResolveNames(soap)
				}
				if err != nil && err.Error() == "" {
					t.Errorf("%s: empty error message", op.name)
				}
			}
		}
		// The error-message helpers see hostile bodies too.
		_ = excerpt(body, &redactor{fixed: []func() string{secret("hunter2")}})
	})
}
