package mailbox

import "time"

// UserConfig is a user configuration object (a folder-associated item
// named IPM.Configuration.<Name>): Outlook keeps the master category list
// as "CategoryList" on the calendar folder, its XML in XMLData.
type UserConfig struct {
	Name       string
	FolderID   string // set by the model
	ID         string // set by the model
	ChangeKey  string // set by the model
	Dictionary []DictionaryEntry
	XMLData    []byte
	BinaryData []byte
	Modified   time.Time // set by the model
}

// DictionaryEntry is one entry of a user configuration dictionary. Types
// are those of UserConfigurationDictionaryObjectTypesType (String,
// Integer32, Boolean, DateTime, ByteArray, StringArray, ...), values in
// text form.
type DictionaryEntry struct {
	KeyType   string
	Key       string
	ValueType string
	Values    []string
}

type configKey struct {
	folder uint64
	name   string
}

type userConfig struct {
	num uint64
	ver uint32
	c   UserConfig
}

// validConfigName: < 237 characters of A-Z a-z 0-9 and '.', not starting
// with IPM.Configuration (FACTS-SYNC §7).
func validConfigName(n string) error {
	if n == "" || len(n) >= 237 {
		return errf(ErrInvalidRequest, "user configuration name %q must have 1 to 236 characters", short(n))
	}
	for _, c := range n {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.') {
			return errf(ErrInvalidRequest, "user configuration name %q may only hold A-Z, a-z, 0-9 and '.'", short(n))
		}
	}
	if len(n) >= 17 && n[:17] == "IPM.Configuration" {
		return errf(ErrInvalidRequest, "user configuration name %q must not start with IPM.Configuration", short(n))
	}
	return nil
}

var dictTypes = []string{"Boolean", "Byte", "ByteArray", "DateTime", "Integer32", "Integer64", "String", "StringArray", "UnsignedInteger32", "UnsignedInteger64"}

func validDictionary(d []DictionaryEntry) error {
	seen := map[string]bool{}
	for _, e := range d {
		if !oneOf(e.KeyType, dictTypes) || !oneOf(e.ValueType, dictTypes) {
			return errf(ErrInvalidRequest, "dictionary entry %q: types %q/%q are not UserConfigurationDictionaryObjectTypes", e.Key, e.KeyType, e.ValueType)
		}
		if seen[e.KeyType+"\x00"+e.Key] {
			return errf(ErrInvalidRequest, "dictionary key %q appears twice", e.Key)
		}
		seen[e.KeyType+"\x00"+e.Key] = true
	}
	return nil
}

func (m *Mailbox) configSnapshot(f *folder, u *userConfig) UserConfig {
	c := u.c
	c.FolderID = m.id(KindFolderID, f.num)
	c.ID = m.id(KindConfigID, u.num)
	c.ChangeKey = encodeChangeKey(KindConfigID, u.ver)
	c.XMLData = append([]byte(nil), u.c.XMLData...)
	c.BinaryData = append([]byte(nil), u.c.BinaryData...)
	c.Dictionary = nil
	for _, e := range u.c.Dictionary {
		e.Values = append([]string(nil), e.Values...)
		c.Dictionary = append(c.Dictionary, e)
	}
	return c
}

// CreateUserConfig creates a user configuration object on a folder; one
// of that name already there fails with [ErrItemSave] (as exchangelib's
// tests against Exchange show).
func (m *Mailbox) CreateUserConfig(folderRef string, c UserConfig) (UserConfig, error) {
	if err := validConfigName(c.Name); err != nil {
		return UserConfig{}, err
	}
	if err := validDictionary(c.Dictionary); err != nil {
		return UserConfig{}, err
	}
	m.lock()
	defer m.mu.Unlock()
	f, err := m.folderLocked(folderRef)
	if err != nil {
		return UserConfig{}, err
	}
	k := configKey{f.num, c.Name}
	if m.configs[k] != nil {
		return UserConfig{}, errf(ErrItemSave, "user configuration %q exists on folder %q", c.Name, f.name)
	}
	u := &userConfig{num: m.newNum(), ver: 1}
	u.c = m.configSnapshot(f, &userConfig{c: c})
	u.c.FolderID, u.c.ID, u.c.ChangeKey = "", "", ""
	u.c.Modified = m.now()
	m.configs[k] = u
	m.logLocked(entry{typ: ChangeCreated, associated: true, num: u.num, parent: f.num})
	return m.configSnapshot(f, u), nil
}

// GetUserConfig returns a user configuration object; a missing one is
// [ErrItemNotFound].
func (m *Mailbox) GetUserConfig(folderRef, name string) (UserConfig, error) {
	m.rlock()
	defer m.mu.RUnlock()
	f, err := m.folderLocked(folderRef)
	if err != nil {
		return UserConfig{}, err
	}
	u := m.configs[configKey{f.num, name}]
	if u == nil {
		return UserConfig{}, errf(ErrItemNotFound, "user configuration %q on folder %q", name, f.name)
	}
	return m.configSnapshot(f, u), nil
}

// UpdateUserConfig replaces the Dictionary, XmlData and BinaryData of an
// existing user configuration object (UpdateUserConfiguration writes the
// whole object; the fields not given are cleared).
func (m *Mailbox) UpdateUserConfig(folderRef string, c UserConfig) (UserConfig, error) {
	if err := validDictionary(c.Dictionary); err != nil {
		return UserConfig{}, err
	}
	m.lock()
	defer m.mu.Unlock()
	f, err := m.folderLocked(folderRef)
	if err != nil {
		return UserConfig{}, err
	}
	u := m.configs[configKey{f.num, c.Name}]
	if u == nil {
		return UserConfig{}, errf(ErrItemNotFound, "user configuration %q on folder %q", c.Name, f.name)
	}
	nc := m.configSnapshot(f, &userConfig{c: c})
	nc.FolderID, nc.ID, nc.ChangeKey = "", "", ""
	nc.Modified = m.now()
	u.c = nc
	u.ver++
	m.logLocked(entry{typ: ChangeModified, associated: true, num: u.num, parent: f.num})
	return m.configSnapshot(f, u), nil
}

// DeleteUserConfig deletes a user configuration object. Exchange moves it
// to the dumpster, so the log records a move (notifications: MovedEvent).
func (m *Mailbox) DeleteUserConfig(folderRef, name string) error {
	m.lock()
	defer m.mu.Unlock()
	f, err := m.folderLocked(folderRef)
	if err != nil {
		return err
	}
	k := configKey{f.num, name}
	u := m.configs[k]
	if u == nil {
		return errf(ErrItemNotFound, "user configuration %q on folder %q", name, f.name)
	}
	delete(m.configs, k)
	m.logLocked(entry{typ: ChangeMoved, associated: true, num: m.newNum(), parent: m.dist["recoverableitemsdeletions"].num, oldNum: u.num, oldParent: f.num})
	return nil
}
