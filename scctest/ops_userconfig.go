package scctest

import (
	"encoding/base64"
	"strings"

	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// User configuration objects (Get/Create/Update/DeleteUserConfiguration)
// on the mailbox model: a Dictionary, XmlData and BinaryData per name and
// folder, as Outlook keeps the master category list ("CategoryList" on
// the calendar folder).

// configName reads a t:UserConfigurationName or m:UserConfigurationName:
// the Name attribute and the folder child.
func (x *exchange) configName(n *node) (target, string, ews.ResponseCode, *soapFault) {
	name, ok := n.attr("Name")
	if !ok {
		return target{}, "", "", schemaFault(n, "The required attribute 'Name' is missing.")
	}
	if len(n.kids) != 1 {
		return target{}, "", "", schemaFault(n, "The element 'UserConfigurationName' must hold one FolderId or DistinguishedFolderId.")
	}
	t, code, f := x.resolveFolder(n.kids[0])
	return t, name, code, f
}

// parseUserConfig reads an m:UserConfiguration (Create/Update).
func (x *exchange) parseUserConfig() (target, mbx.UserConfig, *responseMessage, *soapFault) {
	uc := x.body.child(nsMessages, "UserConfiguration")
	if uc == nil {
		return target{}, mbx.UserConfig{}, nil, schemaFault(x.body, "The element '"+x.op+"' in namespace '"+nsMessages+"' has incomplete content. List of possible elements expected: 'UserConfiguration' in namespace '"+nsMessages+"'.")
	}
	nameNode := uc.child(nsTypes, "UserConfigurationName")
	if nameNode == nil {
		return target{}, mbx.UserConfig{}, nil, schemaFault(uc, "The element 'UserConfiguration' in namespace '"+nsMessages+"' has incomplete content. List of possible elements expected: 'UserConfigurationName' in namespace '"+nsTypes+"'.")
	}
	t, name, code, f := x.configName(nameNode)
	if f != nil {
		return t, mbx.UserConfig{}, nil, f
	}
	if code != "" {
		rm := failure(code)
		return t, mbx.UserConfig{}, &rm, nil
	}
	c := mbx.UserConfig{Name: name}
	if d := uc.child(nsTypes, "Dictionary"); d != nil {
		for _, e := range d.kids {
			key, val := e.child(nsTypes, "DictionaryKey"), e.child(nsTypes, "DictionaryValue")
			if key == nil || val == nil {
				return t, c, nil, schemaFault(e, "The element 'DictionaryEntry' in namespace '"+nsTypes+"' has incomplete content. List of possible elements expected: 'DictionaryKey, DictionaryValue' in namespace '"+nsTypes+"'.")
			}
			de := mbx.DictionaryEntry{KeyType: key.child(nsTypes, "Type").trimmed(), Key: key.child(nsTypes, "Value").value()}
			de.ValueType = val.child(nsTypes, "Type").trimmed()
			for _, v := range val.kids {
				if v.is(nsTypes, "Value") {
					de.Values = append(de.Values, v.value())
				}
			}
			if len(de.Values) == 0 {
				// A nil DictionaryValue (xsi:nil, no Type): the model
				// wants a type; no values means nil when written back.
				de.ValueType = de.KeyType
			}
			c.Dictionary = append(c.Dictionary, de)
		}
	}
	for _, field := range []struct {
		tag string
		dst *[]byte
	}{{"XmlData", &c.XMLData}, {"BinaryData", &c.BinaryData}} {
		if n := uc.child(nsTypes, field.tag); n != nil {
			b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.text), ""))
			if err != nil {
				return t, c, nil, schemaFault(n, "The '"+nsTypes+":"+field.tag+"' element is invalid - The value is invalid according to its datatype 'http://www.w3.org/2001/XMLSchema:base64Binary'.")
			}
			*field.dst = b
		}
	}
	return t, c, nil, nil
}

// writeUserConfig implements CreateUserConfiguration and
// UpdateUserConfiguration.
func (x *exchange) writeUserConfig() (*opResponse, *soapFault) {
	t, c, rm, f := x.parseUserConfig()
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	if rm != nil {
		resp.messages = append(resp.messages, *rm)
		return resp, nil
	}
	var err error
	if x.op == "CreateUserConfiguration" {
		_, err = x.box(t).CreateUserConfig(t.ref, c)
	} else {
		_, err = x.box(t).UpdateUserConfig(t.ref, c)
	}
	if err != nil {
		resp.messages = append(resp.messages, modelFailure(err))
		return resp, nil
	}
	resp.messages = append(resp.messages, success(nil))
	return resp, nil
}

// userConfigProps reads m:UserConfigurationProperties (a list of Id,
// Dictionary, XmlData, BinaryData, All).
func (x *exchange) userConfigProps() (map[string]bool, *soapFault) {
	n := x.body.child(nsMessages, "UserConfigurationProperties")
	if n == nil {
		return nil, schemaFault(x.body, "The element 'GetUserConfiguration' in namespace '"+nsMessages+"' has incomplete content. List of possible elements expected: 'UserConfigurationProperties' in namespace '"+nsMessages+"'.")
	}
	props := map[string]bool{}
	for _, p := range strings.Fields(n.text) {
		switch p {
		case "Id", "Dictionary", "XmlData", "BinaryData":
			props[p] = true
		case "All":
			props["Id"], props["Dictionary"], props["XmlData"], props["BinaryData"] = true, true, true, true
		default:
			return nil, schemaFault(n, "The '"+nsMessages+":UserConfigurationProperties' element is invalid - The value '"+clip(p, 200)+"' is invalid according to its datatype '"+nsTypes+":UserConfigurationPropertyType' - The Enumeration constraint failed.")
		}
	}
	if len(props) == 0 {
		return nil, schemaFault(n, "The '"+nsMessages+":UserConfigurationProperties' element is invalid - The value '' is invalid according to its datatype '"+nsTypes+":UserConfigurationPropertyType'.")
	}
	return props, nil
}

// getUserConfig implements GetUserConfiguration.
func (x *exchange) getUserConfig() (*opResponse, *soapFault) {
	nameNode := x.body.child(nsMessages, "UserConfigurationName")
	if nameNode == nil {
		return nil, schemaFault(x.body, "The element 'GetUserConfiguration' in namespace '"+nsMessages+"' has incomplete content. List of possible elements expected: 'UserConfigurationName' in namespace '"+nsMessages+"'.")
	}
	t, name, code, f := x.configName(nameNode)
	if f != nil {
		return nil, f
	}
	props, f := x.userConfigProps()
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	if code != "" {
		resp.messages = append(resp.messages, failure(code))
		return resp, nil
	}
	c, err := x.box(t).GetUserConfig(t.ref, name)
	if err != nil {
		resp.messages = append(resp.messages, modelFailure(err))
		return resp, nil
	}
	resp.messages = append(resp.messages, success(func(m *elem) {
		e := m.CreateElement("m:UserConfiguration")
		ne := e.CreateElement("t:UserConfigurationName")
		ne.CreateAttr("Name", c.Name)
		ne.CreateElement("t:FolderId").CreateAttr("Id", c.FolderID)
		if props["Id"] {
			ie := e.CreateElement("t:ItemId")
			ie.CreateAttr("Id", c.ID)
			ie.CreateAttr("ChangeKey", c.ChangeKey)
		}
		if props["Dictionary"] && len(c.Dictionary) > 0 {
			d := e.CreateElement("t:Dictionary")
			for _, de := range c.Dictionary {
				entry := d.CreateElement("t:DictionaryEntry")
				k := entry.CreateElement("t:DictionaryKey")
				k.CreateElement("t:Type").SetText(de.KeyType)
				k.CreateElement("t:Value").SetText(de.Key)
				v := entry.CreateElement("t:DictionaryValue")
				if len(de.Values) == 0 {
					v.CreateAttr("xsi:nil", "true")
					continue
				}
				v.CreateElement("t:Type").SetText(de.ValueType)
				for _, val := range de.Values {
					v.CreateElement("t:Value").SetText(val)
				}
			}
		}
		if props["XmlData"] && len(c.XMLData) > 0 {
			e.CreateElement("t:XmlData").SetText(base64.StdEncoding.EncodeToString(c.XMLData))
		}
		if props["BinaryData"] && len(c.BinaryData) > 0 {
			e.CreateElement("t:BinaryData").SetText(base64.StdEncoding.EncodeToString(c.BinaryData))
		}
	}))
	return resp, nil
}

// deleteUserConfig implements DeleteUserConfiguration.
func (x *exchange) deleteUserConfig() (*opResponse, *soapFault) {
	nameNode := x.body.child(nsMessages, "UserConfigurationName")
	if nameNode == nil {
		return nil, schemaFault(x.body, "The element 'DeleteUserConfiguration' in namespace '"+nsMessages+"' has incomplete content. List of possible elements expected: 'UserConfigurationName' in namespace '"+nsMessages+"'.")
	}
	t, name, code, f := x.configName(nameNode)
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	if code != "" {
		resp.messages = append(resp.messages, failure(code))
		return resp, nil
	}
	if err := x.box(t).DeleteUserConfig(t.ref, name); err != nil {
		resp.messages = append(resp.messages, modelFailure(err))
		return resp, nil
	}
	resp.messages = append(resp.messages, success(nil))
	return resp, nil
}
