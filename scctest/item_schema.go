package scctest

import (
	"strings"

	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// The child elements of the item types in schema order (types.xsd,
// ItemType and its extensions). Responses are written in this order, so a
// property kept verbatim lands where the schema wants it.
var (
	itemElems     = strings.Fields("MimeContent ItemId ParentFolderId ItemClass Subject Sensitivity Body Attachments DateTimeReceived Size Categories Importance InReplyTo IsSubmitted IsDraft IsFromMe IsResend IsUnmodified InternetMessageHeaders DateTimeSent DateTimeCreated ResponseObjects ReminderDueBy ReminderIsSet ReminderNextTime ReminderMinutesBeforeStart DisplayCc DisplayTo DisplayBcc HasAttachments ExtendedProperty Culture EffectiveRights LastModifiedName LastModifiedTime IsAssociated WebClientReadFormQueryString WebClientEditFormQueryString ConversationId UniqueBody Flag StoreEntryId InstanceKey NormalizedBody EntityExtractionResult PolicyTag ArchiveTag RetentionDate Preview RightsManagementLicenseData PredictedActionReasons IsClutter BlockStatus HasBlockedImages TextBody IconIndex SearchKey SortKey Hashtags Mentions MentionedMe MentionsPreview MentionsEx AppliedHashtags AppliedHashtagsPreview Likes LikesPreview PendingSocialActivityTagIds AtAllMention CanDelete InferenceClassification")
	messageElems  = strings.Fields("Sender ToRecipients CcRecipients BccRecipients IsReadReceiptRequested IsDeliveryReceiptRequested ConversationIndex ConversationTopic From InternetMessageId IsRead IsResponseRequested References ReplyTo ReceivedBy ReceivedRepresenting ApprovalRequestData VotingInformation ReminderMessageData MessageSafety SenderSMTPAddress MailboxGuids PublishedCalendarItemIcs PublishedCalendarItemName")
	calendarElems = strings.Fields("UID RecurrenceId DateTimeStamp Start End OriginalStart IsAllDayEvent LegacyFreeBusyStatus Location When IsMeeting IsCancelled IsRecurring MeetingRequestWasSent IsResponseRequested CalendarItemType MyResponseType Organizer RequiredAttendees OptionalAttendees Resources InboxReminders ConflictingMeetingCount AdjacentMeetingCount ConflictingMeetings AdjacentMeetings Duration TimeZone AppointmentReplyTime AppointmentSequenceNumber AppointmentState Recurrence FirstOccurrence LastOccurrence ModifiedOccurrences DeletedOccurrences MeetingTimeZone StartTimeZone EndTimeZone ConferenceType AllowNewTimeProposal IsOnlineMeeting MeetingWorkspaceUrl NetShowUrl EnhancedLocation StartWallClock EndWallClock StartTimeZoneId EndTimeZoneId IntendedFreeBusyStatus JoinOnlineMeetingUrl OnlineMeetingSettings IsOrganizer CalendarActivityData DoNotForwardMeeting")
	contactElems  = strings.Fields("FileAs FileAsMapping DisplayName GivenName Initials MiddleName Nickname CompleteName CompanyName EmailAddresses AbchEmailAddresses PhysicalAddresses PhoneNumbers AssistantName Birthday BusinessHomePage Children Companies ContactSource Department Generation ImAddresses JobTitle Manager Mileage OfficeLocation PostalAddressIndex Profession SpouseName Surname WeddingAnniversary HasPicture PhoneticFullName PhoneticFirstName PhoneticLastName Alias Notes Photo UserSMIMECertificate MSExchangeCertificate DirectoryId ManagerMailbox DirectReports AccountName IsAutoUpdateDisabled IsMessengerEnabled Comment ContactShortId ContactType Gender IsHidden ObjectId PassportId IsPrivate SourceId TrustLevel CreatedBy Urls Cid SkypeAuthCertificate SkypeContext SkypeId SkypeRelationship YomiNickname XboxLiveTag InviteFree HidePresenceAndProfile IsPendingOutbound SupportGroupFeeds UserTileHash UnifiedInbox Mris Wlid AbchContactId NotInBirthdayCalendar ShellContactType ImMri PresenceTrustLevel OtherMri ProfileLastChanged MobileIMEnabled PartnerNetworkProfilePhotoUrl PartnerNetworkThumbnailPhotoUrl PersonId ConversationGuid")
	taskElems     = strings.Fields("ActualWork AssignedTime BillingInformation ChangeCount Companies CompleteDate Contacts DelegationState Delegator DueDate IsAssignmentEditable IsComplete IsRecurring IsTeamTask Mileage Owner PercentComplete Recurrence StartDate Status StatusDescription TotalWork")
)

// kindElems returns the element order of an item kind, each element with
// its FieldURI prefix.
func kindElems(k mbx.ItemKind) []elemSlot {
	return kindSlots[k]
}

type elemSlot struct{ name, field string }

var kindSlots = func() map[mbx.ItemKind][]elemSlot {
	base := func(extra []string, prefix string) []elemSlot {
		out := make([]elemSlot, 0, len(itemElems)+len(extra))
		for _, n := range itemElems {
			out = append(out, elemSlot{n, "item:" + n})
		}
		for _, n := range extra {
			out = append(out, elemSlot{n, prefix + n})
		}
		return out
	}
	return map[mbx.ItemKind][]elemSlot{
		mbx.Message:      base(messageElems, "message:"),
		mbx.CalendarItem: base(calendarElems, "calendar:"),
		mbx.Contact:      base(contactElems, "contacts:"),
		mbx.Task:         base(taskElems, "task:"),
	}
}()

// itemKinds are the item elements the fake stores.
var itemKinds = map[string]mbx.ItemKind{
	"Message": mbx.Message, "CalendarItem": mbx.CalendarItem, "Contact": mbx.Contact, "Task": mbx.Task,
}

// slotOf finds the element of a FieldURI in any kind, or "".
func slotOf(field string) (elemSlot, bool) {
	for _, slots := range kindSlots {
		for _, s := range slots {
			if s.field == field {
				return s, true
			}
		}
	}
	return elemSlot{}, false
}

// computedElems are read-only properties Exchange computes that the fake
// does not: asking for one is ErrorInvalidPropertyRequest, setting one
// ErrorInvalidPropertySet.
var computedElems = setOf("StoreEntryId InstanceKey NormalizedBody " +
	"EntityExtractionResult Preview WebClientReadFormQueryString WebClientEditFormQueryString LastModifiedName ReminderNextTime " +
	"DisplayBcc RetentionDate PredictedActionReasons IsClutter BlockStatus HasBlockedImages IconIndex SearchKey SortKey " +
	"MentionedMe MentionsPreview AppliedHashtagsPreview LikesPreview CanDelete ConversationIndex ReceivedBy ReceivedRepresenting " +
	"MyResponseType ConflictingMeetingCount AdjacentMeetingCount ConflictingMeetings AdjacentMeetings " +
	"IsMeeting IsCancelled MeetingRequestWasSent AppointmentReplyTime AppointmentState " +
	"IsOrganizer RecurrenceId DateTimeStamp OriginalStart Duration TimeZone CompleteName HasPicture DirectReports ManagerMailbox " +
	"PersonId ChangeCount IsAssignmentEditable IsTeamTask DelegationState Delegator StatusDescription AssignedTime MailboxGuids MailboxGuid " +
	"SenderSMTPAddress MessageSafety")

// readOnlyElems are read-only properties the fake computes (from the
// model) and refuses to have set.
var readOnlyElems = setOf("ItemId ParentFolderId Size DateTimeReceived DateTimeSent DateTimeCreated LastModifiedTime IsSubmitted IsFromMe " +
	"IsResend IsUnmodified DisplayCc DisplayTo HasAttachments IsAssociated TextBody InternetMessageId IsRecurring CalendarItemType " +
	"Organizer FirstOccurrence LastOccurrence ModifiedOccurrences DeletedOccurrences IsComplete ConversationTopic ResponseObjects EffectiveRights ConversationId UniqueBody InternetMessageHeaders Attachments")

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}
