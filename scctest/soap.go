package scctest

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/sccsync/scc/ews"
)

// nameValue is one t:Value Name="..." item of a MessageXml.
type nameValue struct{ name, value string }

// soapFault is a request-level failure, answered as a SOAP 1.1 fault with
// HTTP 500 in the shape Exchange uses (EWS-FACTS section 3).
type soapFault struct {
	code    ews.ResponseCode
	message string
	values  []nameValue
	// schema violation details (ErrorSchemaValidation only)
	line, pos int
	violation string
}

func newFault(code ews.ResponseCode, message string, values ...nameValue) *soapFault {
	if message == "" {
		message = defaultMessage(code)
	}
	return &soapFault{code: code, message: message, values: values}
}

// defaultMessage returns the English text Exchange uses for a code.
func defaultMessage(code ews.ResponseCode) string {
	switch code {
	case ews.ErrorImpersonateUserDenied:
		return "The account does not have permission to impersonate the requested user."
	case ews.ErrorImpersonationDenied:
		return "The server to which the application is connected cannot impersonate the requested user due to insufficient permission."
	case ews.ErrorNonExistentMailbox:
		return "The SMTP address has no mailbox associated with it."
	case ews.ErrorInvalidExchangeImpersonationHeaderData:
		return "The impersonation principal name is invalid."
	case ews.ErrorServerBusy:
		return "The server cannot service this request right now. Try again later."
	case ews.ErrorInvalidRequest:
		return "The request is invalid."
	case ews.ErrorInvalidServerVersion:
		return "The specified server version is invalid."
	case ews.ErrorSchemaValidation:
		return "The request failed schema validation."
	case ews.ErrorExceededConnectionCount:
		return "You have exceeded the available concurrent connections for your account.  Try again once your other requests have completed."
	case ews.ErrorItemNotFound:
		return "The specified object was not found in the store."
	case ews.ErrorFolderNotFound:
		return "The specified folder could not be found in the store."
	case ews.ErrorInvalidIdMalformed:
		return "Id is malformed."
	case ews.ErrorInvalidIdEmpty:
		return "Id must be non-empty."
	case ews.ErrorAccessDenied:
		return "Access is denied. Check credentials and try again."
	case ews.ErrorNameResolutionNoResults:
		return "No results were found."
	case ews.ErrorNameResolutionMultipleResults:
		return "Multiple results were found."
	case ews.ErrorInvalidSmtpAddress:
		return "The SMTP address format is invalid."
	case ews.ErrorInvalidSid:
		return "The SID is invalid."
	case ews.ErrorInvalidUserPrincipalName:
		return "The user principal name is invalid."
	case ews.ErrorMissingEmailAddress:
		return "When making a request as an account that does not have a mailbox, you must specify the mailbox primary SMTP address for any distinguished folder Ids."
	case ews.ErrorMessageDispositionRequired:
		return "MessageDisposition attribute is required."
	case ews.ErrorInternalServerError:
		return "An internal server error occurred. The operation failed."
	case ews.ErrorInvalidPropertyRequest:
		return "The property request is invalid."
	case ews.ErrorMailboxStoreUnavailable:
		return "The mailbox database is temporarily unavailable."
	case ews.ErrorMailboxMoveInProgress:
		return "The mailbox is being moved. Try again later."
	case ews.ErrorInvalidOperation:
		return "The operation is invalid."
	case ews.ErrorTimeoutExpired:
		return "The request timed out."
	}
	return string(code)
}

// faultDocument builds the fault envelope.
func faultDocument(f *soapFault) *document {
	d := newDoc()
	env := d.CreateElement("s:Envelope")
	env.CreateAttr("xmlns:s", nsSOAP)
	body := env.CreateElement("s:Body")
	fe := body.CreateElement("s:Fault")
	fc := fe.CreateElement("faultcode")
	fc.CreateAttr("xmlns:a", nsTypes)
	fc.SetText("a:" + string(f.code))
	fs := fe.CreateElement("faultstring")
	fs.CreateAttr("xml:lang", "en-US")
	fs.SetText(f.message)
	det := fe.CreateElement("detail")
	rc := det.CreateElement("e:ResponseCode")
	rc.CreateAttr("xmlns:e", nsErrors)
	rc.SetText(string(f.code))
	msg := det.CreateElement("e:Message")
	msg.CreateAttr("xmlns:e", nsErrors)
	if f.code == ews.ErrorSchemaValidation {
		msg.SetText(defaultMessage(ews.ErrorSchemaValidation))
	} else {
		msg.SetText(f.message)
	}
	switch {
	case f.code == ews.ErrorSchemaValidation:
		mx := det.CreateElement("t:MessageXml")
		mx.CreateAttr("xmlns:t", nsTypes)
		mx.CreateElement("t:LineNumber").SetText(strconv.Itoa(f.line))
		mx.CreateElement("t:LinePosition").SetText(strconv.Itoa(f.pos))
		mx.CreateElement("t:Violation").SetText(f.violation)
	case len(f.values) > 0:
		mx := det.CreateElement("t:MessageXml")
		mx.CreateAttr("xmlns:t", nsTypes)
		for _, v := range f.values {
			e := mx.CreateElement("t:Value")
			e.CreateAttr("Name", v.name)
			e.SetText(v.value)
		}
	}
	return d
}

// responseMessage is one m:<Op>ResponseMessage of a batch.
type responseMessage struct {
	code    ews.ResponseCode // NoError for success
	warning bool             // ResponseClass="Warning" (with a non-NoError code)
	text    string           // MessageText; default text for errors when empty
	values  []nameValue      // MessageXml
	payload func(m *elem)
}

func success(payload func(m *elem)) responseMessage {
	return responseMessage{code: ews.NoError, payload: payload}
}

func failure(code ews.ResponseCode, values ...nameValue) responseMessage {
	return responseMessage{code: code, values: values}
}

// class returns the ResponseClass attribute value.
func (r responseMessage) class() string {
	switch {
	case r.code == ews.NoError || r.code == "":
		return "Success"
	case r.warning:
		return "Warning"
	}
	return "Error"
}

// opResponse is a complete non-fault answer of one operation.
type opResponse struct {
	op       string
	messages []responseMessage
}

// document builds the response envelope with ServerVersionInfo.
func (r *opResponse) document(vi versionInfo) *document {
	d := newDoc()
	env := d.CreateElement("s:Envelope")
	env.CreateAttr("xmlns:s", nsSOAP)
	hdr := env.CreateElement("s:Header")
	svi := hdr.CreateElement("h:ServerVersionInfo")
	svi.CreateAttr("MajorVersion", strconv.Itoa(vi.major))
	svi.CreateAttr("MinorVersion", strconv.Itoa(vi.minor))
	svi.CreateAttr("MajorBuildNumber", strconv.Itoa(vi.build))
	svi.CreateAttr("MinorBuildNumber", strconv.Itoa(vi.minBu))
	svi.CreateAttr("Version", vi.header)
	svi.CreateAttr("xmlns:h", nsTypes)
	svi.CreateAttr("xmlns", nsTypes)
	svi.CreateAttr("xmlns:xsi", nsXSI)
	body := env.CreateElement("s:Body")
	body.CreateAttr("xmlns:xsi", nsXSI)
	resp := body.CreateElement("m:" + r.op + "Response")
	resp.CreateAttr("xmlns:m", nsMessages)
	resp.CreateAttr("xmlns:t", nsTypes)
	msgs := resp.CreateElement("m:ResponseMessages")
	for _, rm := range r.messages {
		m := msgs.CreateElement("m:" + r.op + "ResponseMessage")
		m.CreateAttr("ResponseClass", rm.class())
		code := rm.code
		if code == "" {
			code = ews.NoError
		}
		if code != ews.NoError {
			text := rm.text
			if text == "" {
				text = defaultMessage(code)
			}
			m.CreateElement("m:MessageText").SetText(text)
		}
		m.CreateElement("m:ResponseCode").SetText(string(code))
		if code != ews.NoError {
			m.CreateElement("m:DescriptiveLinkKey").SetText("0")
		}
		if len(rm.values) > 0 {
			mx := m.CreateElement("m:MessageXml")
			for _, v := range rm.values {
				e := mx.CreateElement("t:Value")
				e.CreateAttr("Name", v.name)
				e.SetText(v.value)
			}
		}
		switch {
		case rm.payload != nil:
			rm.payload(m)
		case r.op == "GetItem" || r.op == "CreateItem" || r.op == "UpdateItem" || r.op == "MoveItem" || r.op == "CopyItem":
			// ItemInfoResponseMessageType requires Items, also on errors.
			m.CreateElement("m:Items")
		}
	}
	return d
}

// writeXML sends a SOAP document with the given status.
func writeXML(w http.ResponseWriter, status int, d *document) []byte {
	var buf bytes.Buffer
	d.WriteTo(&buf)
	h := w.Header()
	h.Set("Content-Type", "text/xml; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return buf.Bytes()
}
