// Package mailbox is the fake Exchange server's mailbox model: folders,
// items and their properties, attachments, user configuration objects and
// the change log, as Exchange keeps them. It knows nothing of SOAP; the
// scctest handlers parse a request, call the model and write the answer,
// and turn the model's errors into EWS response codes in one place
// ([Error].Code; [ErrorTable] lists them all). Every write goes through
// the model, so sync answers, notifications and responses cannot disagree.
//
// # Store and mailboxes
//
// A [Store] is the directory. [Store.Mailbox] creates a mailbox on first
// use; its standard folders ([DistinguishedFolderNames]) appear on the
// first call that touches it, so 10,000 untouched mailboxes cost about
// 260 bytes each. Each mailbox has its own lock; everything is safe for
// concurrent use. Methods take a folder as a distinguished name ("inbox")
// or an id; ids name their mailbox, so [Store.Resolve] routes a request by
// id and a mailbox refuses another's ids with [ErrOtherMailbox].
//
// # Ids and change keys
//
// Ids are opaque base64 records that start "AAMk" like Exchange's and
// carry the kind (folder, item, occurrence, attachment, configuration),
// the mailbox, the object number and a CRC, so a mistyped id is
// [ErrInvalidIDMalformed], never another object. Change keys encode the
// object's version. A folder keeps its id when moved or renamed; an item
// gets a new id when moved (a move to Deleted Items keeps its change key);
// copies are new objects with new ids, extended properties and
// attachments included.
//
// # Folders
//
// [Mailbox.CreateFolder] makes generic (any FolderClass), calendar,
// contacts and tasks folders anywhere; a class on a typed folder is
// [ErrNoFolderClassOverride]; a second folder of the same name under one
// parent, compared case-insensitively, is [ErrFolderExists]. Rename and
// other changes go through [Mailbox.UpdateFolder]; [Mailbox.MoveFolder],
// [Mailbox.CopyFolder] (deep) and [Mailbox.DeleteFolder] (HardDelete,
// SoftDelete, MoveToDeletedItems) follow Exchange, refusing distinguished
// folders. Counts (total, unread, child folders) are kept on every write.
//
// # Items and properties
//
// [Item] holds a message, calendar item, contact or task. Its typed fields
// are the properties the model understands; [ExtendedProperty] values are
// stored per ExtendedFieldURI (tag, or property set with name or id, every
// PropertyType including arrays, type part of the identity) in canonical
// form; [RawProperty] keeps any other schema-valid element verbatim, keyed
// by element name, so nothing a client sets is dropped. Computed MAPI
// properties (PR_MESSAGE_SIZE, PR_MESSAGE_FLAGS, PR_HASATTACH,
// PR_MESSAGE_CLASS, PR_SUBJECT, PR_IMPORTANCE, PR_SENSITIVITY,
// PR_INTERNET_MESSAGE_ID, PR_TRANSPORT_MESSAGE_HEADERS,
// PR_CLIENT_SUBMIT_TIME, PR_MESSAGE_DELIVERY_TIME, PR_CREATION_TIME,
// PR_LAST_MODIFICATION_TIME, PR_ENTRYID, PR_PARENT_ENTRYID; for folders
// PR_DISPLAY_NAME, PR_CONTAINER_CLASS, PR_CONTENT_COUNT, PR_CONTENT_UNREAD,
// PR_SUBFOLDERS, PR_FOLDER_TYPE, PR_FOLDER_CHILD_COUNT, PR_MESSAGE_SIZE)
// are answered by [Mailbox.ItemExtendedProperties] and
// [Mailbox.FolderExtendedProperties] and refused for writing
// ([ErrInvalidPropertySet]). MIME content is parsed on create to fill the
// item ([ParseMIME]) and rendered for items without it ([RenderMIME],
// [Mailbox.MIMEContent]); [HTMLToText], [TextToHTML] and [BodyAs] convert
// bodies.
//
// # Updates
//
// [Mailbox.UpdateItem] applies [Update]s (set, append, delete of a field,
// an indexed contact entry or an extended property) in order, all or none,
// under a [ConflictResolution]; every change gives a new change key, and
// [UpdateResult].Conflicts is ConflictResults/Count.
//
// # Queries
//
// A [Restriction] is an AST ([Compare], [Contains], [Excludes], [Exists],
// [And], [Or], [Not]) over item or folder fields and extended properties;
// [Mailbox.FindItems] evaluates it with a [SortKey] order and paging, and
// [Mailbox.FindFoldersQuery] does so for folders. Whatever cannot be
// evaluated is a typed error naming it, never a full listing. An
// IsEqualTo on an extended property is served from a per-folder index
// built on first use. [Mailbox.CalendarView] expands recurring series.
//
// # Change log
//
// Every write appends a [Change] with a mailbox-wide sequence number.
// [Mailbox.ItemChanges] and [Mailbox.FolderChanges] answer "what changed
// in F since sequence N" with net-change semantics for SyncFolderItems and
// SyncFolderHierarchy; [Mailbox.ChangesSince] and [Mailbox.Subscribe] feed
// notification subscriptions without ever blocking a writer or losing an
// event.
//
// # Decisions where Exchange is not documented
//
//   - UpdateFolder / RenameFolder accept an empty change key (the docs'
//     DeleteFolder and MoveFolder examples send none); a stale one is
//     ErrorIrresolvableConflict. UpdateItem follows the documented rule: a
//     missing change key is ErrorChangeKeyRequiredForWriteOperations under
//     all three resolutions. MoveItem, CopyItem, DeleteItem and SetIsRead
//     take no change key.
//   - AutoResolve "cannot merge" means a property the request sets was
//     changed by an update after the client's change key; other stale
//     updates merge.
//   - A folder moved or deleted into Deleted Items or the dumpster is not
//     checked for a sibling of the same name; SoftDelete of a folder hides
//     it in place (FindFolders with SoftDeleted lists it).
//   - Item and folder changes that only alter a folder's counts do not log
//     a Modified entry for the folder.
//   - The net changes of a page are ordered by each object's first change
//     after the sync point; an object reported in one page may be reported
//     again (Update, or Delete of one never seen) in the next, nothing is
//     lost. A folder moved into a synced tree from outside is an Update.
//   - A comparison (IsNotEqualTo included) or Excludes on a property an
//     object lacks is false, as a MAPI property restriction is; Exists
//     tells presence. Strings compare case-insensitively in IsEqualTo and
//     the relational operators; Contains follows ContainmentComparison.
//   - A move out of a folder is a Delete in that folder's item sync, also
//     a move to Deleted Items (FACTS-SYNC §8.3; the docs' deletion article
//     mentions an Update instead).
//   - An id of another mailbox is ErrorAccessDenied; a move or copy across
//     mailboxes is not modelled.
//   - Size is the model's estimate (a fixed overhead plus the bytes it
//     stores), not Exchange's MAPI size.
//   - Default limits: attachment 35 MB (Exchange Online MaxSendSize), item
//     36 MB (MaxReceiveSize); item attachments nest ten levels.
//   - CalendarView expands in the time zone of the master's Start and
//     includes an event that ends exactly at the window's start (the docs
//     exclude only those ending before it).
//   - A user configuration name must be 1 to 236 characters of A-Z, a-z,
//     0-9 and '.', not starting "IPM.Configuration"; a bad one is
//     ErrorInvalidRequest.
//
// # Not modelled
//
// Search folders, meeting requests and responses (attendee lists are
// stored, no invitations), task recurrence, per-occurrence item ids other
// than those CalendarView returns (GetItem of an occurrence id), time zone
// definitions beyond a [time.Location], attachments inside parsed MIME
// (the MIME is kept whole), public folders, archive mailboxes, delegate
// permissions.
package mailbox
