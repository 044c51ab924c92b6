package license

import (
	"bytes"
	"crypto/ed25519"
	"reflect"
	"testing"
)

// fuzzKey is fixed so that the seed corpus in testdata stays signed by it.
var fuzzKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// FuzzParse checks that no input makes parsing or verification panic, and that anything which
// verifies carries exactly the spec that was signed: a mutation can break a license, never forge one.
func FuzzParse(f *testing.F) {
	spec := validSpec()
	f.Add(signed(f, fuzzKey, spec))
	f.Add([]byte("apiVersion: " + APIVersion + "\nkind: License\nspec: {}\n"))
	f.Add([]byte("kind: License\nspec: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data)
		if err != nil {
			return
		}
		if l.Verify(pubOf(fuzzKey), now) != nil {
			return
		}
		_ = l.Entitles(ModeDataPlane, true)
		got := l.Spec
		got.IssuedAt, got.ExpiresAt = got.IssuedAt.UTC(), got.ExpiresAt.UTC()
		want := spec
		want.IssuedAt, want.ExpiresAt = want.IssuedAt.UTC(), want.ExpiresAt.UTC()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("a mutated license verified with spec %+v", l.Spec)
		}
	})
}
