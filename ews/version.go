package ews

import (
	"fmt"
	"strconv"
)

// ExchangeVersion is the schema version a request asks the server to use
// (t:RequestServerVersion/@Version, ExchangeVersionType in types.xsd). Use
// the oldest version that has the features you need; every operation of this
// package works with the default, [Exchange2013_SP1].
type ExchangeVersion string

// The values of ExchangeVersionType in Microsoft's EWS schema, in schema
// order. Exchange2009, Exchange2012 and Exchange2015 are internal names the
// schema accepts; on-premises servers know the Exchange20xx values, Exchange
// Online also the dated V20xx values.
const (
	Exchange2007     ExchangeVersion = "Exchange2007"
	Exchange2007_SP1 ExchangeVersion = "Exchange2007_SP1"
	Exchange2009     ExchangeVersion = "Exchange2009"
	Exchange2010     ExchangeVersion = "Exchange2010"
	Exchange2010_SP1 ExchangeVersion = "Exchange2010_SP1"
	// Exchange2010_SP2 is also what Exchange 2010 SP3 servers expect.
	Exchange2010_SP2 ExchangeVersion = "Exchange2010_SP2"
	Exchange2012     ExchangeVersion = "Exchange2012"
	Exchange2013     ExchangeVersion = "Exchange2013"
	// Exchange2013_SP1 is the default: understood by Exchange 2013, 2016,
	// 2019 and Exchange Online.
	Exchange2013_SP1 ExchangeVersion = "Exchange2013_SP1"
	Exchange2015     ExchangeVersion = "Exchange2015"
	Exchange2016     ExchangeVersion = "Exchange2016"
	V2015_10_05      ExchangeVersion = "V2015_10_05"
	V2016_01_06      ExchangeVersion = "V2016_01_06"
	V2016_04_13      ExchangeVersion = "V2016_04_13"
	V2016_07_13      ExchangeVersion = "V2016_07_13"
	V2016_10_10      ExchangeVersion = "V2016_10_10"
	V2017_01_07      ExchangeVersion = "V2017_01_07"
	V2017_04_14      ExchangeVersion = "V2017_04_14"
	V2017_07_11      ExchangeVersion = "V2017_07_11"
	V2017_10_09      ExchangeVersion = "V2017_10_09"
	V2018_01_08      ExchangeVersion = "V2018_01_08"
)

// DefaultServerVersion is the RequestServerVersion a Client sends unless
// [WithServerVersion] says otherwise.
const DefaultServerVersion = Exchange2013_SP1

// ExchangeVersions returns every value of ExchangeVersionType, in schema
// order.
func ExchangeVersions() []ExchangeVersion {
	return []ExchangeVersion{
		Exchange2007, Exchange2007_SP1, Exchange2009, Exchange2010,
		Exchange2010_SP1, Exchange2010_SP2, Exchange2012, Exchange2013,
		Exchange2013_SP1, Exchange2015, Exchange2016, V2015_10_05,
		V2016_01_06, V2016_04_13, V2016_07_13, V2016_10_10, V2017_01_07,
		V2017_04_14, V2017_07_11, V2017_10_09, V2018_01_08,
	}
}

// Known reports whether v is a value of ExchangeVersionType.
func (v ExchangeVersion) Known() bool {
	for _, k := range ExchangeVersions() {
		if v == k {
			return true
		}
	}
	return false
}

// String returns the version as it appears on the wire.
func (v ExchangeVersion) String() string { return string(v) }

// ServerVersionInfo is the t:ServerVersionInfo header of a response: the
// build of the Exchange server that answered. Every field is optional on the
// wire and left zero when absent. Version is a free string (Exchange Online
// has sent V2018_01_08 and V2_4, for example), not necessarily an
// [ExchangeVersion].
type ServerVersionInfo struct {
	MajorVersion     int
	MinorVersion     int
	MajorBuildNumber int
	MinorBuildNumber int
	Version          string
}

// String formats the build like Exchange does, e.g. "15.20.1471.20
// (V2018_01_08)".
func (s ServerVersionInfo) String() string {
	out := strconv.Itoa(s.MajorVersion) + "." + strconv.Itoa(s.MinorVersion) + "." +
		strconv.Itoa(s.MajorBuildNumber) + "." + strconv.Itoa(s.MinorBuildNumber)
	if s.Version != "" {
		out += " (" + s.Version + ")"
	}
	return out
}

// Product names the Exchange generation from the major and minor version:
// "Exchange 2007", "Exchange 2010", "Exchange 2013", "Exchange 2016",
// "Exchange 2019", "Exchange Online", or "Exchange <major>.<minor>" when it
// does not know the pair.
func (s ServerVersionInfo) Product() string {
	switch {
	case s.MajorVersion == 8:
		return "Exchange 2007"
	case s.MajorVersion == 14:
		return "Exchange 2010"
	case s.MajorVersion == 15 && s.MinorVersion == 0:
		return "Exchange 2013"
	case s.MajorVersion == 15 && s.MinorVersion == 1:
		return "Exchange 2016"
	case s.MajorVersion == 15 && s.MinorVersion == 2:
		return "Exchange 2019"
	case s.MajorVersion == 15 && s.MinorVersion >= 20:
		return "Exchange Online"
	}
	return fmt.Sprintf("Exchange %d.%d", s.MajorVersion, s.MinorVersion)
}
