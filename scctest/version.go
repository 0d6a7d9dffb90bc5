package scctest

import "fmt"

// ServerVersion is the Exchange release the fake server pretends to be. It
// decides the ServerVersionInfo header of every response and which
// RequestServerVersion values the server accepts.
type ServerVersion int

// The Exchange releases the fake server can pretend to be.
const (
	// Exchange2019 is Exchange Server 2019 (15.2), the default. It reports
	// Version="V2017_07_11" and accepts RequestServerVersion values up to
	// V2017_07_11.
	Exchange2019 ServerVersion = iota
	// Exchange2016 is Exchange Server 2016 (15.1), reporting V2017_07_11.
	Exchange2016
	// Exchange2013SP1 is Exchange Server 2013 SP1 (15.0.847+), reporting
	// Exchange2013_SP1 and accepting values up to Exchange2013_SP1.
	Exchange2013SP1
	// Exchange2010SP3 is Exchange Server 2010 SP3 (14.3), reporting
	// Exchange2010_SP2. Like a real Exchange 2010 it answers newer
	// RequestServerVersion values with ErrorInvalidServerVersion.
	Exchange2010SP3
	// ExchangeOnline is Exchange Online (15.20), reporting V2018_01_08 and
	// accepting every value of the schema.
	ExchangeOnline
)

// versionInfo is what ServerVersionInfo reports and what the server accepts.
type versionInfo struct {
	name                       string
	major, minor, build, minBu int
	header                     string // ServerVersionInfo/@Version
	newest                     string // newest accepted RequestServerVersion
	// unknownCode is the fault for a RequestServerVersion value the server
	// does not know.
	unknownIsInvalidServerVersion bool
}

func (v ServerVersion) info() (versionInfo, bool) {
	switch v {
	case Exchange2019:
		return versionInfo{"Exchange2019", 15, 2, 1544, 4, "V2017_07_11", "V2017_07_11", false}, true
	case Exchange2016:
		return versionInfo{"Exchange2016", 15, 1, 2507, 6, "V2017_07_11", "V2017_07_11", false}, true
	case Exchange2013SP1:
		return versionInfo{"Exchange2013SP1", 15, 0, 1497, 2, "Exchange2013_SP1", "Exchange2013_SP1", false}, true
	case Exchange2010SP3:
		return versionInfo{"Exchange2010SP3", 14, 3, 123, 4, "Exchange2010_SP2", "Exchange2010_SP2", true}, true
	case ExchangeOnline:
		return versionInfo{"ExchangeOnline", 15, 20, 8769, 21, "V2018_01_08", "V2018_01_08", false}, true
	}
	return versionInfo{}, false
}

// String returns the release name, e.g. "Exchange2019".
func (v ServerVersion) String() string {
	if i, ok := v.info(); ok {
		return i.name
	}
	return fmt.Sprintf("ServerVersion(%d)", int(v))
}

// requestVersions lists the values of t:ExchangeVersionType in the schema,
// oldest first.
func requestVersionRank(v string) int {
	switch v {
	case "Exchange2007":
		return 1
	case "Exchange2007_SP1":
		return 2
	case "Exchange2009":
		return 3
	case "Exchange2010":
		return 4
	case "Exchange2010_SP1":
		return 5
	case "Exchange2010_SP2":
		return 6
	case "Exchange2012":
		return 7
	case "Exchange2013":
		return 8
	case "Exchange2013_SP1":
		return 9
	case "Exchange2015":
		return 10
	case "Exchange2016":
		return 11
	case "V2015_10_05":
		return 12
	case "V2016_01_06":
		return 13
	case "V2016_04_13":
		return 14
	case "V2016_07_13":
		return 15
	case "V2016_10_10":
		return 16
	case "V2017_01_07":
		return 17
	case "V2017_04_14":
		return 18
	case "V2017_07_11":
		return 19
	case "V2017_10_09":
		return 20
	case "V2018_01_08":
		return 21
	}
	return 0
}

// accepts reports whether the server takes requests for version v.
func (i versionInfo) accepts(v string) bool {
	r := requestVersionRank(v)
	return r > 0 && r <= requestVersionRank(i.newest)
}
