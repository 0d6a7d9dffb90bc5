package mailbox

import (
	"bytes"
	"testing"
)

const categoryXML = `<?xml version="1.0"?><categories default="" lastSavedTime="2024-06-01T08:00:00.000" xmlns="CategoryList.xsd"><category name="CRM" color="7" keyboardShortcut="0" guid="{5a1e0c6b-2f3d-4b7a-9e61-0c8d4f2a7b13}" renameOnFirstUse="0"/></categories>`

func TestUserConfigCategoryList(t *testing.T) {
	m := newMailbox(t)
	_, err := m.GetUserConfig("calendar", "CategoryList")
	wantErr(t, "GetUserConfig before create", err, ErrItemNotFound)
	c, err := m.CreateUserConfig("calendar", UserConfig{Name: "CategoryList", XMLData: []byte(categoryXML)})
	if err != nil {
		t.Fatal(err)
	}
	cal, _ := m.GetFolder("calendar")
	if c.FolderID != cal.ID || c.ID == "" || c.ChangeKey == "" {
		t.Errorf("CreateUserConfig = %+v", c)
	}
	if cal.TotalCount != 0 || cal.AssociatedSize != 1 {
		t.Errorf("calendar counts %d normal, %d associated; want 0, 1", cal.TotalCount, cal.AssociatedSize)
	}
	_, err = m.CreateUserConfig("calendar", UserConfig{Name: "CategoryList"})
	wantErr(t, "CreateUserConfig twice", err, ErrItemSave)
	got, err := m.GetUserConfig(cal.ID, "CategoryList")
	if err != nil || !bytes.Equal(got.XMLData, []byte(categoryXML)) {
		t.Errorf("GetUserConfig = %+v, %v", got, err)
	}
	up, err := m.UpdateUserConfig("calendar", UserConfig{Name: "CategoryList", BinaryData: []byte{1, 2},
		Dictionary: []DictionaryEntry{{KeyType: "String", Key: "k", ValueType: "Integer32", Values: []string{"7"}}}})
	if err != nil || up.ChangeKey == c.ChangeKey || up.XMLData != nil && len(up.XMLData) != 0 || len(up.Dictionary) != 1 {
		t.Errorf("UpdateUserConfig = %+v, %v (the whole object is replaced)", up, err)
	}
	tests := []struct {
		name string
		c    UserConfig
		err  *Error
	}{
		{"bad characters", UserConfig{Name: "Category List"}, ErrInvalidRequest},
		{"reserved prefix", UserConfig{Name: "IPM.Configuration.X"}, ErrInvalidRequest},
		{"empty", UserConfig{}, ErrInvalidRequest},
		{"bad dictionary type", UserConfig{Name: "D", Dictionary: []DictionaryEntry{{KeyType: "Text", Key: "k", ValueType: "String"}}}, ErrInvalidRequest},
		{"duplicate key", UserConfig{Name: "D", Dictionary: []DictionaryEntry{{KeyType: "String", Key: "k", ValueType: "String"}, {KeyType: "String", Key: "k", ValueType: "String"}}}, ErrInvalidRequest},
		{"other folder, same name", UserConfig{Name: "CategoryList"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.CreateUserConfig("inbox", tc.c)
			wantErr(t, "CreateUserConfig", err, tc.err)
		})
	}
	_, err = m.UpdateUserConfig("tasks", UserConfig{Name: "CategoryList"})
	wantErr(t, "UpdateUserConfig(missing)", err, ErrItemNotFound)
	if err := m.DeleteUserConfig("calendar", "CategoryList"); err != nil {
		t.Fatal(err)
	}
	_, err = m.GetUserConfig("calendar", "CategoryList")
	wantErr(t, "GetUserConfig after delete", err, ErrItemNotFound)
	wantErr(t, "DeleteUserConfig twice", m.DeleteUserConfig("calendar", "CategoryList"), ErrItemNotFound)
	// User configurations never show up as items in sync.
	ch, _, _, _ := m.ItemChanges("calendar", 0, 0)
	if len(ch) != 0 {
		t.Errorf("ItemChanges(calendar) = %+v, want none", ch)
	}
}
