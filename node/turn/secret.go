package turn

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecretFileSize is the size of a generated secret, in random bytes.
const SecretFileSize = 32

// LoadOrCreateSecret reads the credential secret from path, or, when the
// file does not exist, draws SecretFileSize random bytes and writes them
// there (hex, mode 0600). The secret is the file's text, trimmed: the
// bytes of the hex string, as coturn uses its static-auth-secret, so that
// the same file can serve a coturn beside the node.
func LoadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path) //nolint:gosec // the operator names the file
	switch {
	case err == nil:
		s := strings.TrimSpace(string(b))
		if len(s) < MinSecretSize {
			return nil, fmt.Errorf("%w: secret in %s is %d bytes, want at least %d", ErrInvalidConfig, path, len(s), MinSecretSize)
		}
		return []byte(s), nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("turn: reading secret: %w", err)
	}
	raw := make([]byte, SecretFileSize)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("turn: drawing secret: %w", err)
	}
	s := hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("turn: secret directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // as above
	if err != nil {
		return nil, fmt.Errorf("turn: writing secret: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("turn: writing secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("turn: writing secret: %w", err)
	}
	return []byte(s), nil
}
