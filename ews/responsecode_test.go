package ews

import "testing"

func TestResponseCodeTransient(t *testing.T) {
	tests := []struct {
		code ResponseCode
		want bool
	}{
		{ErrorServerBusy, true},
		{ErrorTimeoutExpired, true},
		{ErrorMailboxStoreUnavailable, true},
		{ErrorMailboxMoveInProgress, true},
		{ErrorInternalServerTransientError, true},
		{ErrorInsufficientResources, true}, // "the mailbox server is overloaded; try again later"
		{ErrorExceededConnectionCount, true},
		{NoError, false},
		{ErrorImpersonateUserDenied, false},
		{ErrorImpersonationDenied, false},
		{ErrorNonExistentMailbox, false},
		{ErrorAccessDenied, false},
		{ErrorSchemaValidation, false},
		{ResponseCode("ErrorFromAFutureSchema"), false},
	}
	for _, tt := range tests {
		if got := tt.code.Transient(); got != tt.want {
			t.Errorf("%s.Transient() = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestResponseCodeKnown(t *testing.T) {
	if !ErrorServerBusy.Known() || !NoError.Known() {
		t.Errorf("schema codes are not Known()")
	}
	if ResponseCode("ErrorFromAFutureSchema").Known() {
		t.Errorf("an unknown code is Known()")
	}
	if n := len(ResponseCodes()); n != 529 {
		t.Errorf("len(ResponseCodes()) = %d, want the 529 values of messages.xsd", n)
	}
	codes := ResponseCodes()
	codes[0] = "changed"
	if ResponseCodes()[0] != NoError {
		t.Errorf("ResponseCodes returns the package's own array; callers could change it")
	}
}
