// Package ews is a client for Exchange Web Services (EWS) that acts for many
// mailboxes through one service account with Exchange Impersonation.
package ews
