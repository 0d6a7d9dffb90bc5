package ews_test

import (
	"context"
	"slices"
	"testing"

	"github.com/sccsync/scc/ews"
)

// opCase is one call of an operation: its request is compared with the
// golden file testdata/requests/<name>.xml, the server answers with
// testdata/responses/<reply>, and check asserts what the client parsed.
// Impersonation does not change a request body, so these are recorded once
// (TestGoldenRequests covers the impersonation headers).
type opCase struct {
	name  string
	reply string
	run   func(t *testing.T, ctx context.Context, c *ews.Client)
}

// opCases lists the cases of every operation family.
func opCases() []opCase {
	return slices.Concat(folderCases(), itemKindCases(), everyFieldCases(), updateItemCases(), restrictionCases(), attachmentCases(), userConfigCases(), syncCases(), subscribeCases(), streamingCases(), occurrenceCases())
}

func TestOperationCases(t *testing.T) {
	seen := map[string]bool{}
	for _, oc := range opCases() {
		if seen[oc.name] {
			t.Fatalf("two cases named %s", oc.name)
		}
		seen[oc.name] = true
		t.Run(oc.name, func(t *testing.T) {
			f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/"+oc.reply)))
			c := newClient(t, f)
			oc.run(t, context.Background(), c)
			reqs := f.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%s sent %d requests, want 1", oc.name, len(reqs))
			}
			checkGolden(t, oc.name, reqs[0].Body)
		})
	}
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
