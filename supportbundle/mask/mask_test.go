package mask

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/datastax/mission-control/internal/pemtest"
)

// TestText plants each credential in the shape it has in the files and logs a bundle
// collects, and checks that none of it is left while the lines around it are.
func TestText(t *testing.T) {
	key := pemtest.RSAKey(t)
	quoted, _ := json.Marshal(key) // a PEM block inside a JSON string: one line, \n escapes
	tests := []struct {
		name, in string
		secrets  []string
		keep     []string
	}{
		{"PEM private key, whole file", key, pemtest.BodyLines(key), []string{"-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----"}},
		{"PEM block in a log, between lines", "starting\n" + key + "started\n", pemtest.BodyLines(key), []string{"starting\n", "started\n"}},
		{"PEM block in a JSON string", `{"tls.key": ` + string(quoted) + `, "name": "web"}` + "\n", pemtest.BodyLines(key), []string{`"name": "web"`}},
		{"PEM block cut off by the end of a log", "x\n" + key[:len(key)/2], pemtest.BodyLines(key[:len(key)/2])[:5], []string{"x\n"}},
		{"certificate", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIQCERTBODYLINEONE\nMIIBszCCAVmgAwIBAgIQCERTBODYLINETWO\n-----END CERTIFICATE-----\n",
			[]string{"CERTBODYLINEONE", "CERTBODYLINETWO"}, []string{"-----END CERTIFICATE-----"}},
		{"Authorization header", "GET /api Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl\n",
			[]string{"eyJhbGciOiJSUzI1NiJ9"}, []string{"GET /api Authorization: Bearer "}},
		{"bearer token in a log", `level=debug msg="retrying with bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0"` + "\n", []string{"9f8e7d6c5b4a39281706f5e4d3c2b1a0"}, []string{"level=debug"}},
		{"basic auth header", "authorization: Basic YWRtaW46aHVudGVyMg==\n", []string{"YWRtaW46aHVudGVyMg=="}, nil},
		{"password in a URL", "proxy https://svc-user:Pl4nted-Url-Pass@proxy.example:3128/ down\n", []string{"Pl4nted-Url-Pass"}, []string{"https://svc-user:", "@proxy.example:3128/ down"}},
		{"environment credentials", "AWS_CREDENTIALS=planted-aws-1 DB_PASSWORD='planted pass 2' MINIO_SECRET_KEY=planted-minio-3 GH_TOKEN=\"planted-gh-4\" PATH=/usr/bin\n",
			[]string{"planted-aws-1", "planted pass 2", "planted-minio-3", "planted-gh-4"}, []string{"PATH=/usr/bin"}},
		{"kubeconfig credentials", "users:\n- name: admin\n  user:\n    client-certificate-data: " + base64.StdEncoding.EncodeToString([]byte("planted-cert-data")) +
			"\n    client-key-data: " + base64.StdEncoding.EncodeToString([]byte(key)) + "\n    token: planted-kube-token\n",
			[]string{base64.StdEncoding.EncodeToString([]byte("planted-cert-data")), base64.StdEncoding.EncodeToString([]byte(key))[:40], "planted-kube-token"}, []string{"- name: admin"}},
		{"store passwords in JSON quoted in a pod's env", `{"name":"CONFIG_FILE_DATA","value":"{\"cassandra-yaml\":{\"server_encryption_options\":` +
			`{\"keystore_password\":\"planted-ks-pass\",\"truststore_password\":\"planted-ts-pass\",\"internode_encryption\":\"all\"}}}"}` + "\n",
			[]string{"planted-ks-pass", "planted-ts-pass"}, []string{`\"internode_encryption\":\"all\"`, `{"name":"CONFIG_FILE_DATA"`}},
		{"store passwords in YAML", "    keystore_password: planted-yaml-ks\n    num_tokens: 16\n", []string{"planted-yaml-ks"}, []string{"num_tokens: 16"}},
		{"kubeconfig credentials in JSON", `{"token":"planted-json-token","serviceAccountToken":{"path":"token"}}` + "\n",
			[]string{"planted-json-token"}, []string{`"serviceAccountToken":{"path":"token"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Text([]byte(tt.in)))
			for _, s := range tt.secrets {
				if strings.Contains(got, s) {
					t.Errorf("%q is left in:\n%s", s, got)
				}
			}
			for _, k := range tt.keep {
				if !strings.Contains(got, k) {
					t.Errorf("%q is gone from:\n%s", k, got)
				}
			}
			if again := string(Text([]byte(got))); again != got {
				t.Errorf("a second redaction changed it:\n%s\nto\n%s", got, again)
			}
		})
	}
}

// TestTextKeepsPlainText: a file with no credential comes out byte for byte.
func TestTextKeepsPlainText(t *testing.T) {
	for _, in := range []string{"", "no newline at the end", "a\n\nb\n", "status: Running\nready: true\n", "crlf\r\nlines\r\n"} {
		if got := string(Text([]byte(in))); got != in {
			t.Errorf("Text(%q) = %q", in, got)
		}
	}
}

// FuzzText: whatever the input, redaction ends, is stable, and leaves no line of a PEM
// block's body planted in it.
func FuzzText(f *testing.F) {
	f.Add("plain\n", "BODYLINE")
	f.Add("token: x\n-----BEGIN X-----\n", "QUJD")
	f.Add("a://u:p@h\n", "-----END X-----")
	f.Fuzz(func(t *testing.T, around, body string) {
		once := Text([]byte(around))
		if twice := Text(once); string(twice) != string(once) {
			t.Fatalf("not stable: %q then %q", once, twice)
		}
		if strings.ContainsAny(body, "\n\r-") || strings.TrimSpace(body) != body || len(body) < 4 {
			return
		}
		in := around + "\n-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n"
		if got := Text([]byte(in)); strings.Contains(string(got), "\n"+body+"\n") {
			t.Fatalf("the body %q is left in %q", body, got)
		}
	})
}
