package ews

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/beevik/etree"
)

var (
	opGetUserConfiguration    = &operation{name: "GetUserConfiguration", idempotent: true}
	opCreateUserConfiguration = &operation{name: "CreateUserConfiguration", idempotent: false}
	opUpdateUserConfiguration = &operation{name: "UpdateUserConfiguration", idempotent: true}
	opDeleteUserConfiguration = &operation{name: "DeleteUserConfiguration", idempotent: true}
)

// UserConfiguration is a user configuration object: application settings
// Exchange keeps as a hidden (associated) item of a folder, such as
// Outlook's master category list ("CategoryList" on the calendar).
type UserConfiguration struct {
	// Name is the configuration's name: letters, digits and dots, without
	// the IPM.Configuration. prefix of its item class.
	Name string
	// FolderID is the folder that holds it.
	FolderID FolderID
	// ItemID is the hidden item's id (read only; Get with "Id").
	ItemID     ItemID
	Dictionary []DictionaryEntry
	// XMLData and BinaryData are the XML and binary streams, decoded from
	// base64.
	XMLData    []byte
	BinaryData []byte
}

// DictionaryEntry is one key and value of a configuration dictionary.
type DictionaryEntry struct {
	Key DictionaryObject
	// Value is nil for a key without a value.
	Value *DictionaryObject
}

// DictionaryObject is a typed dictionary key or value. Type is one of
// DateTime, Boolean, Byte, String, Integer32, UnsignedInteger32,
// Integer64, UnsignedInteger64, StringArray, ByteArray; the arrays have
// several Values, the others one.
type DictionaryObject struct {
	Type   string
	Values []string
}

// UserConfigurationProperties names the parts GetUserConfiguration returns.
type UserConfigurationProperties string

// The parts of a user configuration; combine several with spaces, e.g.
// "Id XmlData".
const (
	ConfigID         UserConfigurationProperties = "Id"
	ConfigDictionary UserConfigurationProperties = "Dictionary"
	ConfigXMLData    UserConfigurationProperties = "XmlData"
	ConfigBinaryData UserConfigurationProperties = "BinaryData"
	ConfigAll        UserConfigurationProperties = "All"
)

func checkConfigName(op, name string) error {
	if name == "" || len(name) >= 237 {
		return invalidf("%s: user configuration name %q must have 1 to 236 characters", op, clip(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.') {
			return invalidf("%s: user configuration name %q may hold only letters, digits and dots", op, clip(name))
		}
	}
	if strings.HasPrefix(strings.ToLower(name), "ipm.configuration") {
		return invalidf("%s: user configuration name %q must not start with IPM.Configuration; give the name after that prefix", op, clip(name))
	}
	return nil
}

// writeConfigName appends <tag Name="..."> with the folder id.
func writeConfigName(op, tag string, parent *etree.Element, folder FolderID, name string) error {
	if err := checkConfigName(op, name); err != nil {
		return err
	}
	e := parent.CreateElement(tag)
	e.CreateAttr("Name", name)
	return folder.write(op, "UserConfigurationName", e)
}

var dictionaryTypes = []string{"DateTime", "Boolean", "Byte", "String", "Integer32", "UnsignedInteger32", "Integer64", "UnsignedInteger64", "StringArray", "ByteArray"}

func (o *DictionaryObject) write(op string, parent *etree.Element, tag string) error {
	if !oneOf(o.Type, dictionaryTypes) {
		return invalidf("%s: dictionary type %q is none of %s", op, clip(o.Type), strings.Join(dictionaryTypes, ", "))
	}
	if !strings.HasSuffix(o.Type, "Array") && len(o.Values) != 1 {
		return invalidf("%s: dictionary %s of type %s needs exactly one value, has %d", op, tag, o.Type, len(o.Values))
	}
	e := parent.CreateElement("t:" + tag)
	e.CreateElement("t:Type").SetText(o.Type)
	for _, v := range o.Values {
		if err := checkText(op, "dictionary value", v); err != nil {
			return err
		}
		e.CreateElement("t:Value").SetText(v)
	}
	return nil
}

func parseDictionaryObject(e *etree.Element) *DictionaryObject {
	o := &DictionaryObject{}
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "Type":
			o.Type = strings.TrimSpace(c.Text())
		case "Value":
			o.Values = append(o.Values, c.Text())
		}
	}
	return o
}

func (u *UserConfiguration) write(op string, parent *etree.Element) error {
	e := parent.CreateElement("m:UserConfiguration")
	if err := writeConfigName(op, "t:UserConfigurationName", e, u.FolderID, u.Name); err != nil {
		return err
	}
	if len(u.Dictionary) > 0 {
		d := e.CreateElement("t:Dictionary")
		for _, en := range u.Dictionary {
			de := d.CreateElement("t:DictionaryEntry")
			if err := en.Key.write(op, de, "DictionaryKey"); err != nil {
				return err
			}
			if en.Value == nil {
				// DictionaryValue is required and nillable.
				v := de.CreateElement("t:DictionaryValue")
				v.CreateAttr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
				v.CreateAttr("xsi:nil", "true")
				continue
			}
			if err := en.Value.write(op, de, "DictionaryValue"); err != nil {
				return err
			}
		}
	}
	if u.XMLData != nil {
		e.CreateElement("t:XmlData").SetText(base64.StdEncoding.EncodeToString(u.XMLData))
	}
	if u.BinaryData != nil {
		e.CreateElement("t:BinaryData").SetText(base64.StdEncoding.EncodeToString(u.BinaryData))
	}
	return nil
}

func parseUserConfiguration(e *etree.Element) UserConfiguration {
	var u UserConfiguration
	for _, c := range e.ChildElements() {
		if c.NamespaceURI() != NamespaceTypes {
			continue
		}
		switch c.Tag {
		case "UserConfigurationName":
			u.Name = c.SelectAttrValue("Name", "")
			if f := childNS(c, NamespaceTypes, "FolderId"); f != nil {
				u.FolderID = parseFolderID(f)
			} else if d := childNS(c, NamespaceTypes, "DistinguishedFolderId"); d != nil {
				u.FolderID = FolderID{Distinguished: DistinguishedFolderName(d.SelectAttrValue("Id", ""))}
			}
		case "ItemId":
			u.ItemID = parseItemID(c)
		case "Dictionary":
			for _, de := range c.ChildElements() {
				if de.Tag != "DictionaryEntry" {
					continue
				}
				var en DictionaryEntry
				for _, kv := range de.ChildElements() {
					switch kv.Tag {
					case "DictionaryKey":
						en.Key = *parseDictionaryObject(kv)
					case "DictionaryValue":
						if kv.SelectAttrValue("nil", "") != "true" {
							en.Value = parseDictionaryObject(kv)
						}
					}
				}
				u.Dictionary = append(u.Dictionary, en)
			}
		case "XmlData":
			u.XMLData = parseBase64(c.Text())
			if u.XMLData == nil {
				u.XMLData = []byte{}
			}
		case "BinaryData":
			u.BinaryData = parseBase64(c.Text())
			if u.BinaryData == nil {
				u.BinaryData = []byte{}
			}
		}
	}
	return u
}

// GetUserConfiguration runs the EWS GetUserConfiguration operation for the
// configuration name in folder, returning the parts props names (default
// ConfigAll). A missing configuration is a *ResponseError with
// ErrorItemNotFound.
func (c *Client) GetUserConfiguration(ctx context.Context, folder FolderID, name string, props UserConfigurationProperties, opts ...CallOption) (*UserConfiguration, error) {
	op := opGetUserConfiguration
	if props == "" {
		props = ConfigAll
	}
	for _, p := range strings.Fields(string(props)) {
		switch UserConfigurationProperties(p) {
		case ConfigID, ConfigDictionary, ConfigXMLData, ConfigBinaryData, ConfigAll:
		default:
			return nil, invalidf("GetUserConfiguration: property %q is none of Id, Dictionary, XmlData, BinaryData, All", clip(p))
		}
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:GetUserConfiguration")
		if err := writeConfigName(op.name, "m:UserConfigurationName", e, folder, name); err != nil {
			return err
		}
		e.CreateElement("m:UserConfigurationProperties").SetText(strings.Join(strings.Fields(string(props)), " "))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parseGetUserConfiguration(soap)
}

func parseGetUserConfiguration(soap *soapResponse) (*UserConfiguration, error) {
	var uc UserConfiguration
	results, err := parseResults(soap, opGetUserConfiguration, 1, func(r *StatusResult, e *etree.Element) {
		if x := childNS(e, NamespaceMessages, "UserConfiguration"); x != nil {
			uc = parseUserConfiguration(x)
		}
	})
	if err != nil {
		return nil, err
	}
	if results[0].Err != nil {
		return nil, results[0].Err
	}
	return &uc, nil
}

// CreateUserConfiguration runs the EWS CreateUserConfiguration operation.
// Exchange refuses to create a configuration that exists (ErrorItemSave).
func (c *Client) CreateUserConfiguration(ctx context.Context, u *UserConfiguration, opts ...CallOption) error {
	return c.writeUserConfiguration(ctx, opCreateUserConfiguration, u, opts)
}

// UpdateUserConfiguration runs the EWS UpdateUserConfiguration operation:
// the parts u sets replace the stored ones. There is no conflict
// detection; read the configuration right before writing it.
func (c *Client) UpdateUserConfiguration(ctx context.Context, u *UserConfiguration, opts ...CallOption) error {
	return c.writeUserConfiguration(ctx, opUpdateUserConfiguration, u, opts)
}

func (c *Client) writeUserConfiguration(ctx context.Context, op *operation, u *UserConfiguration, opts []CallOption) error {
	if u == nil {
		return invalidf("%s: user configuration is nil", op.name)
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		return u.write(op.name, b.CreateElement("m:"+op.name))
	})
	if err != nil {
		return err
	}
	resp, err := parseStatus(soap, op, 1)
	if err != nil {
		return err
	}
	return resp.Results[0].Err
}

// DeleteUserConfiguration runs the EWS DeleteUserConfiguration operation.
func (c *Client) DeleteUserConfiguration(ctx context.Context, folder FolderID, name string, opts ...CallOption) error {
	op := opDeleteUserConfiguration
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		return writeConfigName(op.name, "m:UserConfigurationName", b.CreateElement("m:DeleteUserConfiguration"), folder, name)
	})
	if err != nil {
		return err
	}
	resp, err := parseStatus(soap, op, 1)
	if err != nil {
		return err
	}
	return resp.Results[0].Err
}
