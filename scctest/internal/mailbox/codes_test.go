package mailbox_test

import (
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest/internal/mailbox"
)

// TestErrorCodesAreEWSResponseCodes: every code the model can answer is a
// value of ResponseCodeType in Microsoft's schema (as the ews package's
// generated table knows them), so the SOAP layer can send it unchanged.
func TestErrorCodesAreEWSResponseCodes(t *testing.T) {
	for _, e := range mailbox.ErrorTable() {
		if !ews.ResponseCode(e.Code).Known() {
			t.Errorf("model error code %q is not an EWS ResponseCode", e.Code)
		}
	}
}
