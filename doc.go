// Package scc turns on mailbox sync for a whole organization through one
// Exchange service account, and ships a fake Exchange server so all of it can
// be tested offline.
//
// The admin flow it serves:
//
//  1. Model an organization of user mailboxes and its email configuration
//     (package org): mailbox access type, the service account's logon and
//     password or an app-only OAuth credential, the EWS URL.
//  2. Check impersonated access for every user (package impersonation,
//     which speaks Exchange Web Services through package ews).
//  3. Save, and bulk-activate or renew sync for the users that pass.
//  4. When something is wrong, diagnose the service account's access to one
//     mailbox step by step.
//
// Package scctest is an httptest-based fake Exchange server for unit tests;
// the examples directory holds runnable programs.
package scc
