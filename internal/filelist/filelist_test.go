package filelist

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	h := NewHash()
	h.Write([]byte("hello"))
	f := File{Path: "a", Size: 5, SHA256: Sum(h)}
	if err := f.Check(5, h); err != nil {
		t.Errorf("the same content: %v", err)
	}
	if err := f.Check(4, h); err == nil || !strings.Contains(err.Error(), "4 bytes") {
		t.Errorf("another size: %v", err)
	}
	other := NewHash()
	other.Write([]byte("hellO"))
	if err := f.Check(5, other); err == nil || !strings.Contains(err.Error(), "the manifest says 5 bytes, "+f.SHA256[:12]) {
		t.Errorf("other content: %v", err)
	}
	if got := (List{{Size: 3}, {Size: 4}}).Size(); got != 7 {
		t.Errorf("Size = %d", got)
	}
}
