package scctest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSchemaServed: with WithSchemaDir the schema is served beside
// Exchange.asmx to authenticated clients, byte for byte.
func TestSchemaServed(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "ews-schema")
	s := newTestServer(t, WithSchemaDir(dir))
	plain := newTestServer(t)
	for _, tc := range []struct{ path, file string }{
		{"/EWS/Services.wsdl", "services.wsdl"},
		{"/EWS/messages.xsd", "messages.xsd"},
		{"/EWS/types.xsd", "types.xsd"},
		{"/ews/TYPES.XSD", "types.xsd"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got := getFile(t, s, tc.path)
			if got.status != http.StatusOK || !bytes.Equal(got.body, want) {
				t.Errorf("GET %s = %d, %d bytes; want 200 and the %d bytes of %s", tc.path, got.status, len(got.body), len(want), tc.file)
			}
			if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
				t.Errorf("GET %s Content-Type = %q, want text/xml", tc.path, ct)
			}
			if got := do(t, s, nil, req{method: http.MethodGet, path: tc.path}); got.status != http.StatusUnauthorized {
				t.Errorf("GET %s without credentials = %d, want 401", tc.path, got.status)
			}
			if got := do(t, s, nil, req{method: http.MethodPost, path: tc.path, user: testSvc, pass: testPassword}); got.status != http.StatusMethodNotAllowed || got.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("POST %s = %d (Allow %q), want 405 (Allow GET, HEAD)", tc.path, got.status, got.header.Get("Allow"))
			}
			if got := do(t, plain, nil, req{method: http.MethodGet, path: tc.path, user: testSvc, pass: testPassword}); got.status != http.StatusNotFound {
				t.Errorf("GET %s without WithSchemaDir = %d, want 404", tc.path, got.status)
			}
		})
	}
	// EWS itself is unaffected.
	check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), ok1())
}

// TestWithSchemaDirValidates: a directory without the three files is
// refused, naming what is missing.
func TestWithSchemaDirValidates(t *testing.T) {
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "Types.xsd"), []byte("<x/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := New(WithSchemaDir(empty))
	if err == nil || !strings.Contains(err.Error(), "services.wsdl, messages.xsd") || strings.Contains(err.Error(), "types.xsd") {
		t.Errorf("New(WithSchemaDir(dir with Types.xsd only)) = %v, want an error naming services.wsdl and messages.xsd only", err)
	}
	_, err = New(WithSchemaDir(filepath.Join(empty, "nope")))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("New(WithSchemaDir(missing)) = %v, want fs.ErrNotExist", err)
	}
}

// getFile GETs a path with the service account's Basic credentials,
// without parsing the answer as SOAP.
func getFile(t *testing.T, s *Server, path string) resp {
	t.Helper()
	hr, err := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	hr.SetBasicAuth(testSvc, testPassword)
	res, err := s.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}
