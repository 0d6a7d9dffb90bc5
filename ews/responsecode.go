package ews

//go:generate go run ../internal/gen/responsecodes -schema ../../shared/ews-schema/messages.xsd -out responsecode_gen.go

// ResponseCode is an EWS response code (ResponseCodeType in messages.xsd),
// as carried by m:ResponseCode in a response message or e:ResponseCode in a
// SOAP fault. The package declares a constant for every value of the schema;
// servers may still send codes newer than the schema, so unknown values are
// kept as they are.
//
// A ResponseCode is also an error value, so callers can write
// errors.Is(err, ews.ErrorImpersonateUserDenied) for any error this package
// returns that carries that code.
type ResponseCode string

// Error returns the code itself, so a ResponseCode can be the target of
// errors.Is.
func (c ResponseCode) Error() string { return string(c) }

// String returns the code as it appears on the wire.
func (c ResponseCode) String() string { return string(c) }

// Known reports whether c is one of the values of ResponseCodeType in the
// schema this package was generated from.
func (c ResponseCode) Known() bool {
	_, ok := knownResponseCodes[c]
	return ok
}

// Transient reports whether the condition named by c usually clears by
// itself, so that repeating the same request later can succeed: throttling,
// a busy, moving or unavailable mailbox store, server timeouts.
func (c ResponseCode) Transient() bool {
	switch c {
	case ErrorServerBusy,
		ErrorTimeoutExpired,
		ErrorMailboxStoreUnavailable,
		ErrorMailboxMoveInProgress,
		ErrorInternalServerTransientError,
		ErrorConnectionFailed,
		ErrorADUnavailable,
		ErrorNotEnoughMemory,
		ErrorExceededConnectionCount,
		ErrorTooManyObjectsOpened,
		ErrorInsufficientResources,
		ErrorImpersonationFailed:
		return true
	}
	return false
}

// ResponseCodes returns every code of the schema, in schema order.
func ResponseCodes() []ResponseCode {
	out := make([]ResponseCode, len(allResponseCodes))
	copy(out, allResponseCodes[:])
	return out
}
