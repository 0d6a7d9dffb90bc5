package ews

import (
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Contact holds the fields of a contact (t:Contact) beyond those of every
// item; the contact's notes are the item's Body. Dictionary fields
// (EmailAddresses, PhoneNumbers, PhysicalAddresses, ImAddresses) are keyed
// entries; a key appears at most once.
type Contact struct {
	FileAs      string
	DisplayName string
	GivenName   string
	Initials    string
	MiddleName  string
	Nickname    string
	// CompleteName is read-only (contacts:CompleteName).
	CompleteName      *CompleteName
	CompanyName       string
	EmailAddresses    []EmailAddressEntry
	PhysicalAddresses []PhysicalAddressEntry
	PhoneNumbers      []PhoneNumberEntry
	AssistantName     string
	Birthday          time.Time
	BusinessHomePage  string
	Department        string
	Generation        string
	ImAddresses       []ImAddressEntry
	JobTitle          string
	Manager           string
	OfficeLocation    string
	// PostalAddressIndex selects the mailing address: "None", "Home",
	// "Business" or "Other".
	PostalAddressIndex string
	Profession         string
	SpouseName         string
	Surname            string
	WeddingAnniversary time.Time
}

// CompleteName is the name of a contact as the server composes it.
type CompleteName struct {
	Title, FirstName, MiddleName, LastName, Suffix, Initials, FullName, Nickname string
}

// EmailAddressEntry is one e-mail address of a contact; Key is
// "EmailAddress1", "EmailAddress2" or "EmailAddress3".
type EmailAddressEntry struct {
	Key     string
	Address string
	// Name, RoutingType and MailboxType are optional attributes.
	Name        string
	RoutingType string
	MailboxType string
}

// PhoneNumberEntry is one phone number of a contact; Key is one of
// [PhoneNumberKeys], e.g. "BusinessPhone" or "MobilePhone".
type PhoneNumberEntry struct {
	Key    string
	Number string
}

// ImAddressEntry is one instant-messaging address; Key is "ImAddress1",
// "ImAddress2" or "ImAddress3".
type ImAddressEntry struct {
	Key     string
	Address string
}

// PhysicalAddressEntry is one postal address; Key is "Home", "Business" or
// "Other".
type PhysicalAddressEntry struct {
	Key             string
	Street          string
	City            string
	State           string
	CountryOrRegion string
	PostalCode      string
}

// EmailAddress returns the address under key, or "".
func (c *Contact) EmailAddress(key string) string {
	for _, e := range c.EmailAddresses {
		if e.Key == key {
			return e.Address
		}
	}
	return ""
}

// PhoneNumber returns the number under key, or "".
func (c *Contact) PhoneNumber(key string) string {
	for _, e := range c.PhoneNumbers {
		if e.Key == key {
			return e.Number
		}
	}
	return ""
}

// PhysicalAddress returns the address under key.
func (c *Contact) PhysicalAddress(key string) (PhysicalAddressEntry, bool) {
	for _, e := range c.PhysicalAddresses {
		if e.Key == key {
			return e, true
		}
	}
	return PhysicalAddressEntry{}, false
}

// Keys of the contact dictionaries (schema enumerations).
var (
	EmailAddressKeys    = []string{"EmailAddress1", "EmailAddress2", "EmailAddress3"}
	ImAddressKeys       = []string{"ImAddress1", "ImAddress2", "ImAddress3"}
	PhysicalAddressKeys = []string{"Home", "Business", "Other"}
	PhoneNumberKeys     = []string{"AssistantPhone", "BusinessFax", "BusinessPhone", "BusinessPhone2", "Callback", "CarPhone",
		"CompanyMainPhone", "HomeFax", "HomePhone", "HomePhone2", "Isdn", "MobilePhone", "OtherFax", "OtherTelephone", "Pager",
		"PrimaryPhone", "RadioPhone", "Telex", "TtyTddPhone", "BusinessMobile", "IPPhone", "Mms", "Msn"}
)

// Contact properties. The dictionary ones (EmailAddress, PhoneNumber,
// ImAddress, PhysicalAddress*) are used with a key in an [IndexedFieldURI].
const (
	FieldContactFileAs                    FieldURI = "contacts:FileAs"
	FieldContactDisplayName               FieldURI = "contacts:DisplayName"
	FieldContactGivenName                 FieldURI = "contacts:GivenName"
	FieldContactInitials                  FieldURI = "contacts:Initials"
	FieldContactMiddleName                FieldURI = "contacts:MiddleName"
	FieldContactNickname                  FieldURI = "contacts:Nickname"
	FieldContactCompleteName              FieldURI = "contacts:CompleteName"
	FieldContactCompanyName               FieldURI = "contacts:CompanyName"
	FieldContactEmailAddress              FieldURI = "contacts:EmailAddress"
	FieldContactEmailAddresses            FieldURI = "contacts:EmailAddresses"
	FieldContactPhysicalAddresses         FieldURI = "contacts:PhysicalAddresses"
	FieldContactPhysicalAddressStreet     FieldURI = "contacts:PhysicalAddress:Street"
	FieldContactPhysicalAddressCity       FieldURI = "contacts:PhysicalAddress:City"
	FieldContactPhysicalAddressState      FieldURI = "contacts:PhysicalAddress:State"
	FieldContactPhysicalAddressCountry    FieldURI = "contacts:PhysicalAddress:CountryOrRegion"
	FieldContactPhysicalAddressPostalCode FieldURI = "contacts:PhysicalAddress:PostalCode"
	FieldContactPhoneNumber               FieldURI = "contacts:PhoneNumber"
	FieldContactPhoneNumbers              FieldURI = "contacts:PhoneNumbers"
	FieldContactAssistantName             FieldURI = "contacts:AssistantName"
	FieldContactBirthday                  FieldURI = "contacts:Birthday"
	FieldContactBusinessHomePage          FieldURI = "contacts:BusinessHomePage"
	FieldContactDepartment                FieldURI = "contacts:Department"
	FieldContactGeneration                FieldURI = "contacts:Generation"
	FieldContactImAddress                 FieldURI = "contacts:ImAddress"
	FieldContactImAddresses               FieldURI = "contacts:ImAddresses"
	FieldContactJobTitle                  FieldURI = "contacts:JobTitle"
	FieldContactManager                   FieldURI = "contacts:Manager"
	FieldContactOfficeLocation            FieldURI = "contacts:OfficeLocation"
	FieldContactPostalAddressIndex        FieldURI = "contacts:PostalAddressIndex"
	FieldContactProfession                FieldURI = "contacts:Profession"
	FieldContactSpouseName                FieldURI = "contacts:SpouseName"
	FieldContactSurname                   FieldURI = "contacts:Surname"
	FieldContactWeddingAnniversary        FieldURI = "contacts:WeddingAnniversary"
)

// keyedText is one entry of a contact dictionary whose entries are plain
// text (PhoneNumbers, ImAddresses).
type keyedText struct{ key, text string }

// keyedDict writes the dictionary tag (PhoneNumbers, ImAddresses) of the
// entries the writer asks for (field is their IndexedFieldURI); keys are
// the schema's keys. It reports false after a failure the caller must stop
// at (an empty or invalid entry).
func (w *itemWriter) keyedDict(e *etree.Element, tag string, field FieldURI, keys []string, entries []keyedText) bool {
	if w.err != nil || !w.any(len(entries) > 0, field) {
		return true
	}
	var dict *etree.Element
	seen := map[string]bool{}
	for _, en := range entries {
		if !checkKey(w, tag, en.key, keys, seen) || !w.indexed(field, en.key, true) {
			continue
		}
		if en.text == "" {
			w.fail(invalidf("%s: %s.%s[%s] is empty; remove an entry with DeleteItemField", w.op, w.where, tag, en.key))
			return false
		}
		if err := checkText(w.op, w.where+"."+tag, en.text); err != nil {
			w.fail(err)
			return false
		}
		if dict == nil {
			dict = e.CreateElement("t:" + tag)
		}
		x := dict.CreateElement("t:Entry")
		x.CreateAttr("Key", en.key)
		x.SetText(en.text)
	}
	return true
}

func checkKey(w *itemWriter, dict, key string, keys []string, seen map[string]bool) bool {
	for _, k := range keys {
		if k == key {
			if seen[key] {
				w.fail(invalidf("%s: %s.%s has the key %s twice", w.op, w.where, dict, key))
				return false
			}
			seen[key] = true
			return true
		}
	}
	w.fail(invalidf("%s: %s.%s key %q is none of %s", w.op, w.where, dict, clip(key), strings.Join(keys, ", ")))
	return false
}

func (c *Contact) write(w *itemWriter, e *etree.Element) {
	w.text(e, FieldContactFileAs, "FileAs", c.FileAs)
	w.text(e, FieldContactDisplayName, "DisplayName", c.DisplayName)
	w.text(e, FieldContactGivenName, "GivenName", c.GivenName)
	w.text(e, FieldContactInitials, "Initials", c.Initials)
	w.text(e, FieldContactMiddleName, "MiddleName", c.MiddleName)
	w.text(e, FieldContactNickname, "Nickname", c.Nickname)
	w.text(e, FieldContactCompanyName, "CompanyName", c.CompanyName)
	if w.err == nil && w.any(len(c.EmailAddresses) > 0, FieldContactEmailAddress) {
		var dict *etree.Element
		seen := map[string]bool{}
		for _, a := range c.EmailAddresses {
			if !checkKey(w, "EmailAddresses", a.Key, EmailAddressKeys, seen) || !w.indexed(FieldContactEmailAddress, a.Key, true) {
				continue
			}
			if a.Address == "" {
				w.fail(invalidf("%s: %s.EmailAddresses[%s] is empty; remove an entry with DeleteItemField", w.op, w.where, a.Key))
				return
			}
			if err := checkText(w.op, w.where+".EmailAddresses", a.Address+a.Name+a.RoutingType+a.MailboxType); err != nil {
				w.fail(err)
				return
			}
			if dict == nil {
				dict = e.CreateElement("t:EmailAddresses")
			}
			en := dict.CreateElement("t:Entry")
			en.CreateAttr("Key", a.Key)
			if a.Name != "" {
				en.CreateAttr("Name", a.Name)
			}
			if a.RoutingType != "" {
				en.CreateAttr("RoutingType", a.RoutingType)
			}
			if a.MailboxType != "" {
				en.CreateAttr("MailboxType", a.MailboxType)
			}
			en.SetText(a.Address)
		}
	}
	parts := []FieldURI{FieldContactPhysicalAddressStreet, FieldContactPhysicalAddressCity, FieldContactPhysicalAddressState, FieldContactPhysicalAddressCountry, FieldContactPhysicalAddressPostalCode}
	if w.err == nil && w.any(len(c.PhysicalAddresses) > 0, parts...) {
		var dict *etree.Element
		seen := map[string]bool{}
		for _, a := range c.PhysicalAddresses {
			if !checkKey(w, "PhysicalAddresses", a.Key, PhysicalAddressKeys, seen) {
				continue
			}
			vals := [...]struct {
				uri      FieldURI
				tag, val string
			}{{parts[0], "Street", a.Street}, {parts[1], "City", a.City}, {parts[2], "State", a.State}, {parts[3], "CountryOrRegion", a.CountryOrRegion}, {parts[4], "PostalCode", a.PostalCode}}
			var en *etree.Element
			for _, v := range vals {
				if !w.indexed(v.uri, a.Key, v.val != "") {
					continue
				}
				if err := checkText(w.op, w.where+".PhysicalAddresses."+v.tag, v.val); err != nil {
					w.fail(err)
					return
				}
				if dict == nil {
					dict = e.CreateElement("t:PhysicalAddresses")
				}
				if en == nil {
					en = dict.CreateElement("t:Entry")
					en.CreateAttr("Key", a.Key)
				}
				en.CreateElement("t:" + v.tag).SetText(v.val)
			}
		}
	}
	phones := make([]keyedText, len(c.PhoneNumbers))
	for n, p := range c.PhoneNumbers {
		phones[n] = keyedText{p.Key, p.Number}
	}
	if !w.keyedDict(e, "PhoneNumbers", FieldContactPhoneNumber, PhoneNumberKeys, phones) {
		return
	}
	w.text(e, FieldContactAssistantName, "AssistantName", c.AssistantName)
	w.dateTime(e, FieldContactBirthday, "Birthday", c.Birthday)
	w.text(e, FieldContactBusinessHomePage, "BusinessHomePage", c.BusinessHomePage)
	w.text(e, FieldContactDepartment, "Department", c.Department)
	w.text(e, FieldContactGeneration, "Generation", c.Generation)
	ims := make([]keyedText, len(c.ImAddresses))
	for n, a := range c.ImAddresses {
		ims[n] = keyedText{a.Key, a.Address}
	}
	if !w.keyedDict(e, "ImAddresses", FieldContactImAddress, ImAddressKeys, ims) {
		return
	}
	w.text(e, FieldContactJobTitle, "JobTitle", c.JobTitle)
	w.text(e, FieldContactManager, "Manager", c.Manager)
	w.text(e, FieldContactOfficeLocation, "OfficeLocation", c.OfficeLocation)
	w.enum(e, FieldContactPostalAddressIndex, "PostalAddressIndex", c.PostalAddressIndex, "None", "Home", "Business", "Other")
	w.text(e, FieldContactProfession, "Profession", c.Profession)
	w.text(e, FieldContactSpouseName, "SpouseName", c.SpouseName)
	w.text(e, FieldContactSurname, "Surname", c.Surname)
	w.dateTime(e, FieldContactWeddingAnniversary, "WeddingAnniversary", c.WeddingAnniversary)
}

func (c *Contact) parseField(e *etree.Element) {
	switch e.Tag {
	case "FileAs":
		c.FileAs = strings.TrimSpace(e.Text())
	case "DisplayName":
		c.DisplayName = strings.TrimSpace(e.Text())
	case "GivenName":
		c.GivenName = strings.TrimSpace(e.Text())
	case "Initials":
		c.Initials = strings.TrimSpace(e.Text())
	case "MiddleName":
		c.MiddleName = strings.TrimSpace(e.Text())
	case "Nickname":
		c.Nickname = strings.TrimSpace(e.Text())
	case "CompleteName":
		n := &CompleteName{}
		for _, p := range e.ChildElements() {
			v := strings.TrimSpace(p.Text())
			switch p.Tag {
			case "Title":
				n.Title = v
			case "FirstName":
				n.FirstName = v
			case "MiddleName":
				n.MiddleName = v
			case "LastName":
				n.LastName = v
			case "Suffix":
				n.Suffix = v
			case "Initials":
				n.Initials = v
			case "FullName":
				n.FullName = v
			case "Nickname":
				n.Nickname = v
			}
		}
		c.CompleteName = n
	case "CompanyName":
		c.CompanyName = strings.TrimSpace(e.Text())
	case "EmailAddresses":
		for _, en := range e.ChildElements() {
			if en.Tag == "Entry" {
				c.EmailAddresses = append(c.EmailAddresses, EmailAddressEntry{
					Key: en.SelectAttrValue("Key", ""), Address: strings.TrimSpace(en.Text()),
					Name: en.SelectAttrValue("Name", ""), RoutingType: en.SelectAttrValue("RoutingType", ""), MailboxType: en.SelectAttrValue("MailboxType", ""),
				})
			}
		}
	case "PhysicalAddresses":
		for _, en := range e.ChildElements() {
			if en.Tag != "Entry" {
				continue
			}
			a := PhysicalAddressEntry{Key: en.SelectAttrValue("Key", "")}
			for _, p := range en.ChildElements() {
				v := strings.TrimSpace(p.Text())
				switch p.Tag {
				case "Street":
					a.Street = v
				case "City":
					a.City = v
				case "State":
					a.State = v
				case "CountryOrRegion":
					a.CountryOrRegion = v
				case "PostalCode":
					a.PostalCode = v
				}
			}
			c.PhysicalAddresses = append(c.PhysicalAddresses, a)
		}
	case "PhoneNumbers":
		for _, en := range e.ChildElements() {
			if en.Tag == "Entry" {
				c.PhoneNumbers = append(c.PhoneNumbers, PhoneNumberEntry{Key: en.SelectAttrValue("Key", ""), Number: strings.TrimSpace(en.Text())})
			}
		}
	case "AssistantName":
		c.AssistantName = strings.TrimSpace(e.Text())
	case "Birthday":
		c.Birthday = parseTime(e.Text())
	case "BusinessHomePage":
		c.BusinessHomePage = strings.TrimSpace(e.Text())
	case "Department":
		c.Department = strings.TrimSpace(e.Text())
	case "Generation":
		c.Generation = strings.TrimSpace(e.Text())
	case "ImAddresses":
		for _, en := range e.ChildElements() {
			if en.Tag == "Entry" {
				c.ImAddresses = append(c.ImAddresses, ImAddressEntry{Key: en.SelectAttrValue("Key", ""), Address: strings.TrimSpace(en.Text())})
			}
		}
	case "JobTitle":
		c.JobTitle = strings.TrimSpace(e.Text())
	case "Manager":
		c.Manager = strings.TrimSpace(e.Text())
	case "OfficeLocation":
		c.OfficeLocation = strings.TrimSpace(e.Text())
	case "PostalAddressIndex":
		c.PostalAddressIndex = strings.TrimSpace(e.Text())
	case "Profession":
		c.Profession = strings.TrimSpace(e.Text())
	case "SpouseName":
		c.SpouseName = strings.TrimSpace(e.Text())
	case "Surname":
		c.Surname = strings.TrimSpace(e.Text())
	case "WeddingAnniversary":
		c.WeddingAnniversary = parseTime(e.Text())
	}
}
