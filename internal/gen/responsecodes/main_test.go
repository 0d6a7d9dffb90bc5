package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const miniSchema = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:simpleType name="OtherType"><xs:restriction base="xs:string"><xs:enumeration value="NotACode"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="ResponseCodeType">
    <xs:annotation><xs:documentation>codes</xs:documentation></xs:annotation>
    <xs:restriction base="xs:string">
      <xs:enumeration value="NoError"/>
      <xs:enumeration value=" ErrorServerBusy "/>
      <xs:enumeration value="ErrorServerBusy"/>
      <xs:enumeration value="ErrorAccessDenied"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="AfterType"><xs:restriction base="xs:string"><xs:enumeration value="AlsoNotACode"/></xs:restriction></xs:simpleType>
</xs:schema>`

func TestResponseCodes(t *testing.T) {
	got, err := responseCodes(strings.NewReader(miniSchema))
	if err != nil {
		t.Fatalf("responseCodes: %v", err)
	}
	want := []string{"NoError", "ErrorServerBusy", "ErrorAccessDenied"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("responseCodes (-want +got):\n%s", diff)
	}
}

func TestResponseCodesRejects(t *testing.T) {
	for name, schema := range map[string]string{
		"no type":       `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>`,
		"bad value":     strings.Replace(miniSchema, `value="NoError"`, `value="No-Error"`, 1),
		"truncated":     miniSchema[:len(miniSchema)/2],
		"wrong xs name": strings.ReplaceAll(miniSchema, "http://www.w3.org/2001/XMLSchema", "urn:other"),
	} {
		if codes, err := responseCodes(strings.NewReader(schema)); err == nil {
			t.Errorf("responseCodes(%s) = %v, want an error", name, codes)
		}
	}
}

func TestRenderIsGoWithEveryCodeDocumented(t *testing.T) {
	src, err := render([]string{"NoError", "ErrorServerBusy", "ErrorDuplicateTransactionId"})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "gen.go", src, parser.ParseComments); err != nil {
		t.Fatalf("render output does not parse: %v\n%s", err, src)
	}
	for _, want := range []string{
		"// ErrorServerBusy " + docs["ErrorServerBusy"],
		"// ErrorDuplicateTransactionId is the EWS response code ErrorDuplicateTransactionId.",
		`ErrorServerBusy ResponseCode = "ErrorServerBusy"`,
		"ErrorServerBusy:",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("render output lacks %q", want)
		}
	}
}

// Every code docs.go describes exists in Microsoft's schema; CI has the
// schema beside the repository, a user's clone may not.
func TestDocsNameSchemaCodes(t *testing.T) {
	path := filepath.Join("..", "..", "..", "..", "shared", "ews-schema", "messages.xsd")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("schema not beside the repository (%v)", err)
	}
	defer f.Close()
	codes, err := responseCodes(f)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, c := range codes {
		known[c] = true
	}
	for c := range docs {
		if !known[c] {
			t.Errorf("docs.go describes %q, which messages.xsd does not list", c)
		}
	}
	if len(codes) < 500 {
		t.Errorf("messages.xsd lists %d codes, want the full ResponseCodeType (over 500)", len(codes))
	}
}
