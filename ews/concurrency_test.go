package ews_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sccsync/scc/ews"
)

// TestConcurrentImpersonation runs many goroutines through one Client, each
// with its own impersonated view, against a server that answers with the
// mailbox it was asked for. Every caller must get its own answer (run with
// -race).
func TestConcurrentImpersonation(t *testing.T) {
	tmpl := string(readTestdata(t, "responses/getfolder-inbox.xml"))
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
		body := strings.Replace(tmpl, "<t:DisplayName>Inbox</t:DisplayName>",
			"<t:DisplayName>"+r.Header.Get("X-AnchorMailbox")+"</t:DisplayName>", 1)
		soapReply(200, []byte(body))(w, r, n)
	})
	c := newClient(t, f)
	const workers, calls = 16, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			addr := fmt.Sprintf("user%02d@contoso.example", w)
			view := c.With(ews.Impersonate(ews.PrimarySmtpAddress(addr)))
			for i := 0; i < calls; i++ {
				folder, err := view.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
				if err != nil {
					errs <- err
					return
				}
				if folder.DisplayName != addr {
					errs <- fmt.Errorf("worker %d got the folder of %q", w, folder.DisplayName)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(f.Requests()); n != workers*calls {
		t.Errorf("server saw %d requests, want %d", n, workers*calls)
	}
}
