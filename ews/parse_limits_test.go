package ews_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

// TestResponseWithManyAttributes: a response whose element carries 100,000
// attributes (1.1 MB) used to keep etree busy for half a minute, checking
// each attribute against all before it. It is refused by its shape.
func TestResponseWithManyAttributes(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"`)
	for i := range 100000 {
		fmt.Fprintf(&b, ` a%d="1"`, i)
	}
	b.WriteString(`/></s:Body></s:Envelope>`)
	body := []byte(b.String())
	f := newFakeEWS(t, soapReply(http.StatusOK, body))
	c := newClient(t, f, ews.WithRetryPolicy(ews.NoRetries()))
	_, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
	var he *ews.HTTPError
	if !errors.As(err, &he) || he.Err == nil || !strings.Contains(he.Err.Error(), "attributes") {
		t.Fatalf("Folder(100,000 attributes) = %v, want an *HTTPError about the attributes", err)
	}
}
