// Package mask masks the credentials in the text files of a support bundle, the ones that
// line-by-line redactors miss included: PEM bodies spanning lines, bearer tokens, URL passwords.
package mask

import (
	"bytes"
	"regexp"
	"strings"
)

// hidden replaces what redaction removes, as troubleshoot's redactors write it.
const hidden = "***HIDDEN***"

// A secretPattern masks the part of a match after its prefix group (and before its suffix group,
// when the pattern has one).
type secretPattern struct {
	re     *regexp.Regexp
	suffix bool
}

// secretPatterns are the credentials a line can hold in the shapes they take in the files and logs
// a bundle collects. troubleshoot's redactors run first, line by line; these run over every file
// of the finished bundle, so that what they miss does not leave the host.
var secretPatterns = []secretPattern{
	// HTTP credentials: Authorization headers, and bearer tokens wherever they are logged.
	{re: regexp.MustCompile(`(?i)(authorization"?\s*[:=]\s*"?(?:bearer|basic|token)\s+)[^\s"',]+`)},
	{re: regexp.MustCompile(`(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}`)},
	// A password in a URL: scheme://user:password@host.
	{re: regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@"']+:)[^@\s/"']+(@)`), suffix: true},
	// Assignments to variables whose names say they hold a secret: DB_PASSWORD=..., AWS_CREDENTIALS=...
	{re: regexp.MustCompile(`(?i)(\b[A-Z0-9_.-]*(?:PASSWORD|PASSWD|TOKEN|SECRET|CREDENTIALS|_KEY)\s*=\s*)(?:"[^"]*"|'[^']*'|[^\s"',;]+)`)},
	// A kubeconfig's credentials and the like in YAML or JSON, keystore_password and its kin, also
	// in JSON quoted inside a JSON string (cass-operator's CONFIG_FILE_DATA in a pod's env).
	{re: regexp.MustCompile(`(?i)(\\?"?\b[a-z0-9_.-]*(?:client-key-data|client-certificate-data|token|password|passwd|secret)\\?"?\s*:\s*\\?"?)[^"\\\s,{}\[\]]+`)},
}

// pemInline is a whole PEM block on one line, as JSON and logs quote one (with \n escapes).
var pemInline = regexp.MustCompile(`(-----BEGIN [A-Z0-9 ]+-----).*?(-----END [A-Z0-9 ]+-----)`)

// pemBegin and pemEnd find a PEM block's armour lines.
var (
	pemBegin = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]+-----`)
	pemEnd   = regexp.MustCompile(`-----END [A-Z0-9 ]+-----`)
)

// Text masks the credentials in a text file: the bodies of PEM blocks of every type (they span
// lines, which line-by-line redactors cannot follow: a body is masked up to its END line, or to the
// end of the file when it has none) and the secretPatterns. Redacting twice changes nothing more.
func Text(data []byte) []byte {
	var out bytes.Buffer
	inBlock := false
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if line == "" {
			continue // after the last newline
		}
		body, eol := strings.CutSuffix(line, "\n")
		body, inBlock = redactLine(body, inBlock)
		out.WriteString(body)
		if eol {
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// redactLine masks one line; inBlock says whether it starts inside a PEM block's body, and the
// result whether the next line does.
func redactLine(line string, inBlock bool) (string, bool) {
	done := ""
	if inBlock {
		end := pemEnd.FindStringIndex(line)
		if end == nil {
			return hidden, true
		}
		if end[0] > 0 {
			done = hidden
		}
		done += line[end[0]:end[1]]
		line = line[end[1]:]
	}
	line = maskLine(line)
	if begins := pemBegin.FindAllStringIndex(line, -1); begins != nil {
		if last := begins[len(begins)-1]; !pemEnd.MatchString(line[last[1]:]) {
			return done + line[:last[1]], true // what follows the BEGIN here is body already
		}
	}
	return done + line, false
}

// maskLine masks the single-line credentials of a line, and the bodies of PEM blocks it holds whole.
func maskLine(line string) string {
	line = pemInline.ReplaceAllStringFunc(line, func(block string) string {
		m := pemInline.FindStringSubmatch(block)
		if strings.Contains(block, hidden) && strings.TrimSuffix(strings.TrimPrefix(block, m[1]), m[2]) == hidden {
			return block
		}
		return m[1] + hidden + m[2]
	})
	for _, p := range secretPatterns {
		repl := "${1}" + hidden
		if p.suffix {
			repl += "${2}"
		}
		line = p.re.ReplaceAllString(line, repl)
	}
	return line
}

// IsText reports whether data is text worth redacting: binary files (no line structure) are
// left as they are, as troubleshoot leaves them.
func IsText(data []byte) bool {
	return !bytes.ContainsRune(data[:min(len(data), 8192)], 0)
}
