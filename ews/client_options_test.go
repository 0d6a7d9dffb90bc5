package ews_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

// TestWithHTTPClientTwice: a second http.Client is refused, never silently
// preferred over the first.
func TestWithHTTPClientTwice(t *testing.T) {
	a, b := &http.Client{}, &http.Client{}
	_, err := ews.NewClient("https://mail.contoso.example/EWS/Exchange.asmx", ews.WithHTTPClient(a), ews.WithHTTPClient(b))
	if err == nil || !strings.Contains(err.Error(), "WithHTTPClient given twice") {
		t.Fatalf("NewClient(WithHTTPClient(a), WithHTTPClient(b)) error = %v, want one saying WithHTTPClient was given twice", err)
	}
	if _, err := ews.NewClient("https://mail.contoso.example/EWS/Exchange.asmx", ews.WithHTTPClient(a)); err != nil {
		t.Fatalf("NewClient(WithHTTPClient(a)) error = %v", err)
	}
}
