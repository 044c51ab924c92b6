package host

import "strings"

// Mount is one line of a mount table (/proc/self/mountinfo).
type Mount struct {
	Point   string
	Root    string // what of its filesystem is mounted: "/", a subdirectory, or nsfs' "net:[4026532283]"
	FSType  string
	Options []string
}

// MountTable is the mounts read through r, in mount order.
func MountTable(r Reader) ([]Mount, error) {
	table, err := r.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return ParseMountinfo(string(table)), nil
}

// ParseMountinfo reads mountinfo lines: ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] -
// FSTYPE SOURCE SUPEROPTIONS.
func ParseMountinfo(table string) []Mount {
	var mounts []Mount
	for line := range strings.SplitSeq(table, "\n") {
		pre, post, _ := strings.Cut(line, " - ")
		fields, after := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 6 {
			continue
		}
		m := Mount{Point: unescapeMountPath(fields[4]), Root: unescapeMountPath(fields[3]), Options: strings.Split(fields[5], ",")}
		if len(after) > 0 {
			m.FSType = after[0]
		}
		mounts = append(mounts, m)
	}
	return mounts
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}
