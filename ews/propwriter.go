package ews

// propWriter decides which properties an item or folder element carries.
// Without only (CreateItem, CreateFolder) it writes every property that is
// set. With only (the value of a Set/AppendTo field update) it writes the one
// property only names, whatever its value, so that an update can set a
// property to false, 0 or "".
type propWriter struct {
	only  Path
	found int
}

// field reports whether to write the property uri; set says whether the
// caller set it.
func (w *propWriter) field(uri FieldURI, set bool) bool {
	if w.only == nil {
		return set
	}
	if f, ok := w.only.(FieldURI); ok && f == uri {
		w.found++
		return true
	}
	return false
}

// indexed reports whether to write the dictionary entry key of uri.
func (w *propWriter) indexed(uri FieldURI, key string, set bool) bool {
	if w.only == nil {
		return set
	}
	if f, ok := w.only.(IndexedFieldURI); ok && f.FieldURI == uri && f.FieldIndex == key {
		w.found++
		return true
	}
	return false
}

// any reports whether any property among uris (or an indexed path of one of
// them) is to be written, without counting it: it decides whether to open a
// container element.
func (w *propWriter) any(set bool, uris ...FieldURI) bool {
	if w.only == nil {
		return set
	}
	var u FieldURI
	switch p := w.only.(type) {
	case FieldURI:
		u = p
	case IndexedFieldURI:
		u = p.FieldURI
	default:
		return false
	}
	for _, x := range uris {
		if x == u {
			return true
		}
	}
	return false
}

// done checks that an update's value carried exactly the property named.
func (w *propWriter) done(op, field string) error {
	if w.only == nil {
		return nil
	}
	switch w.found {
	case 0:
		return invalidf("%s: %s carries no value for %s; set that property in it (or use ActionDelete)", op, field, clip(w.only.String()))
	case 1:
		return nil
	}
	return invalidf("%s: %s carries %d values for %s; an update sets exactly one", op, field, w.found, clip(w.only.String()))
}
