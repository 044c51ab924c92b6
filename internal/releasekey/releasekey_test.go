package releasekey

import (
	"crypto/ed25519"
	"strings"
	"testing"
)

func TestKeysRoundTrip(t *testing.T) {
	pub, priv, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	privPEM, err := MarshalPrivate(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := MarshalPublic(pub)
	if err != nil {
		t.Fatal(err)
	}
	gotPriv, err := ParsePrivate(append([]byte("# a comment before the block\n"), privPEM...))
	if err != nil || !gotPriv.Equal(priv) {
		t.Fatalf("private key round trip: %v", err)
	}
	gotPub, err := ParsePublic(pubPEM)
	if err != nil || !gotPub.Equal(pub) {
		t.Fatalf("public key round trip: %v", err)
	}
	body := strings.Split(string(pubPEM), "\n")[1]
	gotPub, err = ParsePublic([]byte(body))
	if err != nil || !gotPub.Equal(pub) {
		t.Fatalf("public key from its base64 body: %v", err)
	}
	for _, bad := range []string{"", "not a key", string(privPEM)} {
		if _, err := ParsePublic([]byte(bad)); err == nil {
			t.Errorf("ParsePublic(%q) accepted", bad)
		}
	}
	if _, err := ParsePrivate(pubPEM); err == nil {
		t.Error("ParsePrivate accepted a public key")
	}
}

func TestTrustedKey(t *testing.T) {
	dev := Trusted()
	if !IsDevelopment() {
		t.Fatal("a default build must trust the development key")
	}
	body := func() (ed25519.PublicKey, string) {
		pub, _, _ := Generate()
		pem, _ := MarshalPublic(pub)
		return pub, strings.Split(string(pem), "\n")[1]
	}
	licenses, licensesBody := body()
	bundles, bundlesBody := body()
	trustedPublicKey = licensesBody
	t.Cleanup(func() { trustedPublicKey, trustedBundlePublicKey = "", "" })
	if !Trusted().Equal(licenses) || Trusted().Equal(dev) || !TrustedBundles().Equal(dev) {
		t.Fatal("the link-time license key does not replace the development key for licenses only")
	}
	if !IsDevelopment() {
		t.Fatal("a build that trusts the development key for bundles does not say so")
	}
	trustedBundlePublicKey = bundlesBody
	if !TrustedBundles().Equal(bundles) || TrustedBundles().Equal(Trusted()) {
		t.Fatal("the link-time bundle key does not replace the development key for bundles")
	}
	if IsDevelopment() {
		t.Fatal("a release build still trusts the development key")
	}
}
