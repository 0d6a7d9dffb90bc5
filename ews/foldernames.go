package ews

// DistinguishedFolderName is the well-known name of a folder
// (t:DistinguishedFolderId/@Id, DistinguishedFolderIdNameType in
// types.xsd), such as "inbox".
type DistinguishedFolderName string

// The values of DistinguishedFolderIdNameType, in schema order. Not every
// server knows every name: the newer ones exist only in Exchange Online.
const (
	FolderCalendar                              DistinguishedFolderName = "calendar"
	FolderContacts                              DistinguishedFolderName = "contacts"
	FolderDeletedItems                          DistinguishedFolderName = "deleteditems"
	FolderDrafts                                DistinguishedFolderName = "drafts"
	FolderInbox                                 DistinguishedFolderName = "inbox"
	FolderJournal                               DistinguishedFolderName = "journal"
	FolderNotes                                 DistinguishedFolderName = "notes"
	FolderOutbox                                DistinguishedFolderName = "outbox"
	FolderSentItems                             DistinguishedFolderName = "sentitems"
	FolderTasks                                 DistinguishedFolderName = "tasks"
	FolderMsgFolderRoot                         DistinguishedFolderName = "msgfolderroot"
	FolderPublicFoldersRoot                     DistinguishedFolderName = "publicfoldersroot"
	FolderRoot                                  DistinguishedFolderName = "root"
	FolderJunkEmail                             DistinguishedFolderName = "junkemail"
	FolderSearchFolders                         DistinguishedFolderName = "searchfolders"
	FolderVoiceMail                             DistinguishedFolderName = "voicemail"
	FolderRecoverableItemsRoot                  DistinguishedFolderName = "recoverableitemsroot"
	FolderRecoverableItemsDeletions             DistinguishedFolderName = "recoverableitemsdeletions"
	FolderRecoverableItemsVersions              DistinguishedFolderName = "recoverableitemsversions"
	FolderRecoverableItemsPurges                DistinguishedFolderName = "recoverableitemspurges"
	FolderRecoverableItemsDiscoveryHolds        DistinguishedFolderName = "recoverableitemsdiscoveryholds"
	FolderArchiveRoot                           DistinguishedFolderName = "archiveroot"
	FolderArchiveMsgFolderRoot                  DistinguishedFolderName = "archivemsgfolderroot"
	FolderArchiveDeletedItems                   DistinguishedFolderName = "archivedeleteditems"
	FolderArchiveInbox                          DistinguishedFolderName = "archiveinbox"
	FolderArchiveRecoverableItemsRoot           DistinguishedFolderName = "archiverecoverableitemsroot"
	FolderArchiveRecoverableItemsDeletions      DistinguishedFolderName = "archiverecoverableitemsdeletions"
	FolderArchiveRecoverableItemsVersions       DistinguishedFolderName = "archiverecoverableitemsversions"
	FolderArchiveRecoverableItemsPurges         DistinguishedFolderName = "archiverecoverableitemspurges"
	FolderArchiveRecoverableItemsDiscoveryHolds DistinguishedFolderName = "archiverecoverableitemsdiscoveryholds"
	FolderSyncIssues                            DistinguishedFolderName = "syncissues"
	FolderConflicts                             DistinguishedFolderName = "conflicts"
	FolderLocalFailures                         DistinguishedFolderName = "localfailures"
	FolderServerFailures                        DistinguishedFolderName = "serverfailures"
	FolderRecipientCache                        DistinguishedFolderName = "recipientcache"
	FolderQuickContacts                         DistinguishedFolderName = "quickcontacts"
	FolderConversationHistory                   DistinguishedFolderName = "conversationhistory"
	FolderAdminAuditLogs                        DistinguishedFolderName = "adminauditlogs"
	FolderToDoSearch                            DistinguishedFolderName = "todosearch"
	FolderMyContacts                            DistinguishedFolderName = "mycontacts"
	FolderDirectory                             DistinguishedFolderName = "directory"
	FolderIMContactList                         DistinguishedFolderName = "imcontactlist"
	FolderPeopleConnect                         DistinguishedFolderName = "peopleconnect"
	FolderFavorites                             DistinguishedFolderName = "favorites"
	FolderMeContact                             DistinguishedFolderName = "mecontact"
	FolderPersonMetadata                        DistinguishedFolderName = "personmetadata"
	FolderTeamSpaceActivity                     DistinguishedFolderName = "teamspaceactivity"
	FolderTeamSpaceMessaging                    DistinguishedFolderName = "teamspacemessaging"
	FolderTeamSpaceWorkItems                    DistinguishedFolderName = "teamspaceworkitems"
	FolderScheduled                             DistinguishedFolderName = "scheduled"
	FolderOrionNotes                            DistinguishedFolderName = "orionnotes"
	FolderTagItems                              DistinguishedFolderName = "tagitems"
	FolderAllTaggedItems                        DistinguishedFolderName = "alltaggeditems"
	FolderAllCategorizedItems                   DistinguishedFolderName = "allcategorizeditems"
	FolderExternalContacts                      DistinguishedFolderName = "externalcontacts"
	FolderTeamChat                              DistinguishedFolderName = "teamchat"
	FolderTeamChatHistory                       DistinguishedFolderName = "teamchathistory"
	FolderYammerData                            DistinguishedFolderName = "yammerdata"
	FolderYammerRoot                            DistinguishedFolderName = "yammerroot"
	FolderYammerInbound                         DistinguishedFolderName = "yammerinbound"
	FolderYammerOutbound                        DistinguishedFolderName = "yammeroutbound"
	FolderYammerFeeds                           DistinguishedFolderName = "yammerfeeds"
	FolderKaizalaData                           DistinguishedFolderName = "kaizaladata"
	FolderMessageIngestion                      DistinguishedFolderName = "messageingestion"
	FolderOneDriveRoot                          DistinguishedFolderName = "onedriveroot"
	FolderOneDriveRecylebin                     DistinguishedFolderName = "onedriverecylebin"
	FolderOneDriveSystem                        DistinguishedFolderName = "onedrivesystem"
	FolderOneDriveVolume                        DistinguishedFolderName = "onedrivevolume"
	FolderImportant                             DistinguishedFolderName = "important"
	FolderStarred                               DistinguishedFolderName = "starred"
	FolderArchive                               DistinguishedFolderName = "archive"
)

// DistinguishedFolderNames returns every value of
// DistinguishedFolderIdNameType, in schema order.
func DistinguishedFolderNames() []DistinguishedFolderName {
	return []DistinguishedFolderName{
		FolderCalendar, FolderContacts, FolderDeletedItems, FolderDrafts, FolderInbox, FolderJournal,
		FolderNotes, FolderOutbox, FolderSentItems, FolderTasks, FolderMsgFolderRoot, FolderPublicFoldersRoot,
		FolderRoot, FolderJunkEmail, FolderSearchFolders, FolderVoiceMail, FolderRecoverableItemsRoot,
		FolderRecoverableItemsDeletions, FolderRecoverableItemsVersions, FolderRecoverableItemsPurges,
		FolderRecoverableItemsDiscoveryHolds, FolderArchiveRoot, FolderArchiveMsgFolderRoot,
		FolderArchiveDeletedItems, FolderArchiveInbox, FolderArchiveRecoverableItemsRoot,
		FolderArchiveRecoverableItemsDeletions, FolderArchiveRecoverableItemsVersions,
		FolderArchiveRecoverableItemsPurges, FolderArchiveRecoverableItemsDiscoveryHolds, FolderSyncIssues,
		FolderConflicts, FolderLocalFailures, FolderServerFailures, FolderRecipientCache, FolderQuickContacts,
		FolderConversationHistory, FolderAdminAuditLogs, FolderToDoSearch, FolderMyContacts, FolderDirectory,
		FolderIMContactList, FolderPeopleConnect, FolderFavorites, FolderMeContact, FolderPersonMetadata,
		FolderTeamSpaceActivity, FolderTeamSpaceMessaging, FolderTeamSpaceWorkItems, FolderScheduled,
		FolderOrionNotes, FolderTagItems, FolderAllTaggedItems, FolderAllCategorizedItems,
		FolderExternalContacts, FolderTeamChat, FolderTeamChatHistory, FolderYammerData, FolderYammerRoot,
		FolderYammerInbound, FolderYammerOutbound, FolderYammerFeeds, FolderKaizalaData,
		FolderMessageIngestion, FolderOneDriveRoot, FolderOneDriveRecylebin, FolderOneDriveSystem,
		FolderOneDriveVolume, FolderImportant, FolderStarred, FolderArchive,
	}
}
