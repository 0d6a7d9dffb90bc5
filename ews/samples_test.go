package ews

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sharedSamples is Microsoft's and real servers' responses next to the
// repository (../shared); users who clone without it skip these tests.
const sharedSamples = "../../shared/ews-schema/samples/responses"

// interpretFile runs the client's response handling on a canned body as if
// op had been called.
func interpretFile(t *testing.T, op *operation, status int, body []byte) (*soapResponse, error) {
	t.Helper()
	c, err := NewClient("https://mail.contoso.example/EWS/Exchange.asmx")
	if err != nil {
		t.Fatal(err)
	}
	resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}}
	return c.interpret(context.Background(), op, resp, body)
}

func TestSharedSamples(t *testing.T) {
	if _, err := os.Stat(sharedSamples); err != nil {
		t.Skipf("shared samples not available (%v); they live in ../shared next to the repository", err)
	}
	files, err := filepath.Glob(filepath.Join(sharedSamples, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in %s: %v", sharedSamples, err)
	}
	type want struct {
		op      *operation
		status  int
		codes   []ResponseCode // per response message, or the fault code
		classes []ResponseClass
		xml     MessageXML // of the last message or the fault
		version *ServerVersionInfo
		backOff time.Duration
	}
	exportItems := &operation{name: "ExportItems", idempotent: true}
	syncFolderItems := &operation{name: "SyncFolderItems", idempotent: true}
	wants := map[string]want{
		"fault-ErrorInvalidExchangeImpersonationHeaderData.xml": {op: opGetFolder, status: 500, codes: []ResponseCode{ErrorInvalidExchangeImpersonationHeaderData}},
		"fault-ErrorSchemaValidation-FindConversation.xml": {op: opGetFolder, status: 500, codes: []ResponseCode{ErrorSchemaValidation},
			xml: MessageXML{{"LineNumber", "14"}, {"LinePosition", "34"}, {"Violation", "The 'Id' attribute is invalid - The value 'inbox1' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:DistinguishedFolderIdNameType' - The Enumeration constraint failed."}}},
		"fault-ErrorServerBusy-BackOffMilliseconds.xml": {op: opGetFolder, status: 500, codes: []ResponseCode{ErrorServerBusy},
			xml: MessageXML{{"BackOffMilliseconds", "297749"}}, backOff: 297749 * time.Millisecond},
		"responsemessage-ErrorInvalidSmtpAddress-ConvertId.xml": {op: opConvertID, status: 200, codes: []ResponseCode{ErrorInvalidSmtpAddress}, classes: []ResponseClass{ClassError},
			version: &ServerVersionInfo{15, 1, 2345, 6789, "V2017_07_11"}},
		"responsemessage-ErrorInvalidSyncStateData-SyncFolderItems.xml": {op: syncFolderItems, status: 200, codes: []ResponseCode{ErrorInvalidSyncStateData}, classes: []ResponseClass{ClassError},
			version: &ServerVersionInfo{8, 0, 628, 0, ""}},
		"responsemessage-ErrorNonExistentMailbox-ExportItems.xml": {op: exportItems, status: 200,
			codes:   []ResponseCode{NoError, ErrorInvalidChangeKey, ErrorNonExistentMailbox},
			classes: []ResponseClass{ClassSuccess, ClassError, ClassError},
			xml:     MessageXML{{"MailboxGuid", "f3f6f699-2254-40ce-9994-388d9d98419e"}},
			version: &ServerVersionInfo{14, 1, 164, 0, "Exchange2010_SP1"}},
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			w, ok := wants[name]
			if !ok {
				t.Fatalf("no expectations for new sample %s; add them", name)
			}
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			soap, err := interpretFile(t, w.op, w.status, body)
			if w.status != 200 {
				var fe *FaultError
				if !errors.As(err, &fe) {
					t.Fatalf("interpret = %v, want a fault", err)
				}
				if fe.Code != w.codes[0] {
					t.Errorf("fault code = %q, want %q", fe.Code, w.codes[0])
				}
				if diff := cmp.Diff(w.xml, fe.MessageXML); diff != "" {
					t.Errorf("MessageXML (-want +got):\n%s", diff)
				}
				if d, _ := BackOff(err); d != w.backOff {
					t.Errorf("BackOff = %v, want %v", d, w.backOff)
				}
				if strings.TrimSpace(fe.Message) != fe.Message || fe.Message == "" {
					t.Errorf("fault message %q is empty or untrimmed", fe.Message)
				}
				return
			}
			if err != nil {
				t.Fatalf("interpret = %v", err)
			}
			if diff := cmp.Diff(w.version, soap.serverVersion); diff != "" {
				t.Errorf("ServerVersionInfo (-want +got):\n%s", diff)
			}
			msgs, err := soap.messages(w.op, len(w.codes))
			if err != nil {
				t.Fatalf("messages = %v", err)
			}
			var last ResponseMessage
			for i, e := range msgs {
				last = parseResponseMessage(e, nil)
				if last.Code != w.codes[i] || last.Class != w.classes[i] {
					t.Errorf("message %d = %s/%s, want %s/%s", i, last.Class, last.Code, w.classes[i], w.codes[i])
				}
			}
			if diff := cmp.Diff(w.xml, last.MessageXML); diff != "" {
				t.Errorf("MessageXML of the last message (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSchemaEnumerations checks the hand-written enumerations against the
// schema when ../shared is there.
func TestSchemaEnumerations(t *testing.T) {
	b, err := os.ReadFile("../../shared/ews-schema/types.xsd")
	if err != nil {
		t.Skipf("types.xsd not available: %v", err)
	}
	enum := func(typ string) []string {
		s := string(b)
		i := strings.Index(s, `<xs:simpleType name="`+typ+`"`)
		if i < 0 {
			t.Fatalf("%s not in types.xsd", typ)
		}
		s = s[i:]
		s = s[:strings.Index(s, "</xs:simpleType>")]
		var out []string
		for _, part := range strings.Split(s, `<xs:enumeration value="`)[1:] {
			out = append(out, part[:strings.IndexByte(part, '"')])
		}
		return out
	}
	var versions []string
	for _, v := range ExchangeVersions() {
		versions = append(versions, string(v))
	}
	if diff := cmp.Diff(enum("ExchangeVersionType"), versions); diff != "" {
		t.Errorf("ExchangeVersions differ from ExchangeVersionType (-schema +code):\n%s", diff)
	}
	var folders []string
	for _, f := range DistinguishedFolderNames() {
		folders = append(folders, string(f))
	}
	if diff := cmp.Diff(enum("DistinguishedFolderIdNameType"), folders); diff != "" {
		t.Errorf("DistinguishedFolderNames differ from DistinguishedFolderIdNameType (-schema +code):\n%s", diff)
	}
}
