package turn

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func parseIP(t *testing.T, s string) net.IP {
	t.Helper()
	ip := net.ParseIP(s)
	if ip == nil {
		t.Fatalf("bad IP %q", s)
	}
	return ip
}

func TestLoadOrCreateSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config", "turn_secret")
	s1, err := LoadOrCreateSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(s1) != 2*SecretFileSize {
		t.Errorf("secret of %d bytes", len(s1))
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, mode %v", err, fi.Mode())
	}
	s2, err := LoadOrCreateSecret(path)
	if err != nil || string(s1) != string(s2) {
		t.Fatalf("second load: %q vs %q, %v", s2, s1, err)
	}
	short := filepath.Join(t.TempDir(), "short")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSecret(short); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("short secret: %v", err)
	}
}
