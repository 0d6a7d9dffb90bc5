package impersonation

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// TestOneHTTPClient: an HTTP client given both through WithHTTPClient and
// through WithEWSOptions(ews.WithHTTPClient) is refused with an error that
// names the option, instead of one of the two being silently ignored.
func TestOneHTTPClient(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 2)
	_, err := CheckUsers(context.Background(), f.cfg, users,
		WithHTTPClient(f.srv.Client()), WithEWSOptions(ews.WithHTTPClient(&http.Client{})))
	if err == nil || !strings.Contains(err.Error(), "WithHTTPClient given twice") {
		t.Fatalf("CheckUsers(WithHTTPClient, WithEWSOptions(ews.WithHTTPClient)) error = %v, want one saying WithHTTPClient was given twice", err)
	}
}
