package mailbox

import "fmt"

// Error is a model error. Code is the EWS ResponseCode the SOAP layer
// answers with, Text the MessageText Exchange uses for it, Detail what was
// wrong in this call (it names the id, path or value). Match with errors.Is
// against the sentinels below: two errors match when their codes do.
type Error struct {
	Code   string
	Text   string
	Detail string
}

// Error returns "mailbox: Code: Detail".
func (e *Error) Error() string {
	if e.Detail == "" {
		return "mailbox: " + e.Code
	}
	return "mailbox: " + e.Code + ": " + e.Detail
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// errf returns a copy of sentinel with a detail.
func errf(sentinel *Error, format string, args ...any) *Error {
	return &Error{Code: sentinel.Code, Text: sentinel.Text, Detail: fmt.Sprintf(format, args...)}
}

// The model's errors. The table of codes is [ErrorTable].
var (
	ErrItemNotFound          = &Error{Code: "ErrorItemNotFound", Text: "The specified object was not found in the store."}
	ErrFolderNotFound        = &Error{Code: "ErrorFolderNotFound", Text: "The specified folder could not be found in the store."}
	ErrFolderExists          = &Error{Code: "ErrorFolderExists", Text: "A folder with the specified name already exists."}
	ErrInvalidIDMalformed    = &Error{Code: "ErrorInvalidIdMalformed", Text: "Id is malformed."}
	ErrInvalidIDEmpty        = &Error{Code: "ErrorInvalidIdEmpty", Text: "Id must be non-empty."}
	ErrInvalidChangeKey      = &Error{Code: "ErrorInvalidChangeKey", Text: "The change key is invalid."}
	ErrChangeKeyRequired     = &Error{Code: "ErrorChangeKeyRequiredForWriteOperations", Text: "When making a write operation, the change key is required."}
	ErrIrresolvableConflict  = &Error{Code: "ErrorIrresolvableConflict", Text: "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item."}
	ErrOtherMailbox          = &Error{Code: "ErrorAccessDenied", Text: "Access is denied. Check credentials and try again."}
	ErrCrossMailboxMoveCopy  = &Error{Code: "ErrorCrossMailboxMoveCopy", Text: "Cross-mailbox moves and copies are not supported."}
	ErrDeleteDistinguished   = &Error{Code: "ErrorDeleteDistinguishedFolder", Text: "Distinguished folders cannot be deleted."}
	ErrMoveDistinguished     = &Error{Code: "ErrorMoveDistinguishedFolder", Text: "Cannot move distinguished folder."}
	ErrMoveCopyFailed        = &Error{Code: "ErrorMoveCopyFailed", Text: "The move or copy operation failed."}
	ErrNoFolderClassOverride = &Error{Code: "ErrorNoFolderClassOverride", Text: "Cannot override the folder class of a typed folder."}
	ErrInvalidRequest        = &Error{Code: "ErrorInvalidRequest", Text: "The request is invalid."}
	ErrInvalidOperation      = &Error{Code: "ErrorInvalidOperation", Text: "The operation is not valid."}
	ErrQuotaExceeded         = &Error{Code: "ErrorQuotaExceeded", Text: "The mailbox quota has been exceeded."}
	ErrCannotCreateCalendar  = &Error{Code: "ErrorCannotCreateCalendarItemInNonCalendarFolder", Text: "Calendar items can only be created in a calendar folder."}
	ErrObjectTypeChanged     = &Error{Code: "ErrorObjectTypeChanged", Text: "The item class does not match the item type."}

	ErrInvalidPropertySet       = &Error{Code: "ErrorInvalidPropertySet", Text: "The property is read-only and cannot be set."}
	ErrInvalidPropertyAppend    = &Error{Code: "ErrorInvalidPropertyAppend", Text: "The property does not support append."}
	ErrInvalidPropertyDelete    = &Error{Code: "ErrorInvalidPropertyDelete", Text: "The property cannot be deleted."}
	ErrInvalidPropertyRequest   = &Error{Code: "ErrorInvalidPropertyRequest", Text: "The property is not valid for this object type."}
	ErrInvalidValueForProperty  = &Error{Code: "ErrorInvalidValueForProperty", Text: "The value is invalid for the property."}
	ErrInvalidExtendedProperty  = &Error{Code: "ErrorInvalidExtendedProperty", Text: "The extended property attribute combination is invalid."}
	ErrInvalidExtendedPropValue = &Error{Code: "ErrorInvalidExtendedPropertyValue", Text: "The extended property value is inconsistent with its type."}
	ErrNoPropertyTagForCustom   = &Error{Code: "ErrorNoPropertyTagForCustomProperties", Text: "A property tag cannot be used for a custom (named) property."}
	ErrUnsupportedMapiType      = &Error{Code: "ErrorUnsupportedMapiPropertyType", Text: "The MAPI property type is not supported."}

	ErrUnsupportedPathForQuery  = &Error{Code: "ErrorUnsupportedPathForQuery", Text: "The property path is not supported in a restriction."}
	ErrUnsupportedPathForSort   = &Error{Code: "ErrorUnsupportedPathForSortGroup", Text: "The property path is not supported for sorting or grouping."}
	ErrContainsFilterWrongType  = &Error{Code: "ErrorContainsFilterWrongType", Text: "The Contains filter can only be used on string properties."}
	ErrInvalidPropertyForExists = &Error{Code: "ErrorInvalidPropertyForExists", Text: "The property cannot be used with an Exists filter."}
	ErrRestrictionTooLong       = &Error{Code: "ErrorRestrictionTooLong", Text: "The restriction contains too many elements."}
	ErrRestrictionTooComplex    = &Error{Code: "ErrorRestrictionTooComplex", Text: "The restriction is too complex to evaluate."}

	ErrInvalidAttachmentID         = &Error{Code: "ErrorInvalidAttachmentId", Text: "The attachment could not be found."}
	ErrAttachmentSizeLimitExceeded = &Error{Code: "ErrorAttachmentSizeLimitExceeded", Text: "The attachment exceeds the size limit."}
	ErrAttachmentNestLevelExceeded = &Error{Code: "ErrorAttachmentNestLevelLimitExceeded", Text: "Item attachments are nested too deeply."}
	ErrMessageSizeExceeded         = &Error{Code: "ErrorMessageSizeExceeded", Text: "The message exceeds the maximum supported size."}

	ErrItemSave = &Error{Code: "ErrorItemSave", Text: "The item could not be saved."}

	ErrCalendarInvalidRecurrence   = &Error{Code: "ErrorCalendarInvalidRecurrence", Text: "The recurrence pattern is invalid."}
	ErrRecurrenceHasNoOccurrence   = &Error{Code: "ErrorRecurrenceHasNoOccurrence", Text: "The recurrence has no occurrences in the specified range."}
	ErrCalendarOutOfRange          = &Error{Code: "ErrorCalendarOutOfRange", Text: "A recurrence property is out of range."}
	ErrCalendarInvalidDayForWeekly = &Error{Code: "ErrorCalendarInvalidDayForWeeklyRecurrence", Text: "The Day, Weekday and WeekendDay values are not valid in a weekly recurrence."}
	ErrCalendarInvalidPropValue    = &Error{Code: "ErrorCalendarInvalidPropertyValue", Text: "The calendar property value is invalid."}
	ErrRecurrenceEndDateTooBig     = &Error{Code: "ErrorRecurrenceEndDateTooBig", Text: "The recurrence end date is too big; the limit is September 1, 4500."}
	ErrCalendarEndBeforeStart      = &Error{Code: "ErrorCalendarEndDateIsEarlierThanStartDate", Text: "The end date is earlier than the start date."}
	ErrCalendarDurationTooLong     = &Error{Code: "ErrorCalendarDurationIsTooLong", Text: "The duration of the calendar item is too long."}
	ErrCalendarViewRangeTooBig     = &Error{Code: "ErrorCalendarViewRangeTooBig", Text: "The calendar view range is too big."}
	ErrCalendarFolderInvalidForVew = &Error{Code: "ErrorCalendarFolderIsInvalidForCalendarView", Text: "The folder is not a calendar folder."}

	ErrMimeContentConversionFailed = &Error{Code: "ErrorMimeContentConversionFailed", Text: "The MIME content could not be converted."}

	ErrOccurrenceIndexOutOfRange = &Error{Code: "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", Text: "Occurrence index is out of recurrence range."}
	ErrOccurrenceDeleted         = &Error{Code: "ErrorCalendarOccurrenceIsDeletedFromRecurrence", Text: "Occurrence with this index was previously deleted from the recurrence."}
	ErrNotRecurringMasterID      = &Error{Code: "ErrorCalendarCannotUseIdForRecurringMasterId", Text: "The Id specified as a recurring master id is not the id of a recurring master."}
	ErrNotOccurrenceID           = &Error{Code: "ErrorCalendarCannotUseIdForOccurrenceId", Text: "The Id specified as an occurrence id is not the id of an occurrence or exception."}
)

// ErrorTable returns every error the model returns, one per response code,
// for the SOAP layer's single mapping point and for documentation.
func ErrorTable() []*Error {
	all := []*Error{
		ErrItemNotFound, ErrFolderNotFound, ErrFolderExists, ErrInvalidIDMalformed, ErrInvalidIDEmpty,
		ErrInvalidChangeKey, ErrChangeKeyRequired, ErrIrresolvableConflict, ErrOtherMailbox,
		ErrCrossMailboxMoveCopy, ErrDeleteDistinguished, ErrMoveDistinguished, ErrMoveCopyFailed,
		ErrNoFolderClassOverride, ErrInvalidRequest, ErrInvalidOperation, ErrQuotaExceeded,
		ErrCannotCreateCalendar, ErrObjectTypeChanged, ErrInvalidPropertySet, ErrInvalidPropertyAppend,
		ErrInvalidPropertyDelete, ErrInvalidPropertyRequest, ErrInvalidValueForProperty,
		ErrInvalidExtendedProperty, ErrInvalidExtendedPropValue, ErrNoPropertyTagForCustom,
		ErrUnsupportedMapiType, ErrUnsupportedPathForQuery, ErrUnsupportedPathForSort,
		ErrContainsFilterWrongType, ErrInvalidPropertyForExists, ErrRestrictionTooLong,
		ErrRestrictionTooComplex, ErrInvalidAttachmentID, ErrAttachmentSizeLimitExceeded,
		ErrAttachmentNestLevelExceeded, ErrMessageSizeExceeded, ErrItemSave,
		ErrCalendarInvalidRecurrence, ErrRecurrenceHasNoOccurrence, ErrCalendarOutOfRange,
		ErrCalendarInvalidDayForWeekly, ErrCalendarInvalidPropValue, ErrRecurrenceEndDateTooBig, ErrCalendarEndBeforeStart,
		ErrCalendarDurationTooLong, ErrCalendarViewRangeTooBig, ErrCalendarFolderInvalidForVew,
		ErrMimeContentConversionFailed, ErrOccurrenceIndexOutOfRange, ErrOccurrenceDeleted,
		ErrNotRecurringMasterID, ErrNotOccurrenceID,
	}
	out := make([]*Error, len(all))
	for i, e := range all {
		c := *e
		out[i] = &c
	}
	return out
}
