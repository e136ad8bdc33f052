package keystore

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// Store is a directory of device key files, one per (user, device). Its
// methods are safe for concurrent use, also by several processes: a key
// file is only ever created whole and never overwritten.
type Store struct {
	dir string
	// kdf is the Argon2id cost of new files: defaultKDF, lowered only by
	// this package's tests.
	kdf kdfSettings
}

// DefaultDir returns ~/.parley/keys.
func DefaultDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("keystore: %w", err)
	}
	return filepath.Join(home, ".parley", "keys"), nil
}

// Open returns the store rooted at dir, creating the directory (and its
// parents) with mode 0700 if it does not exist. It refuses a directory that
// other users may read or write (ErrInsecurePermissions).
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("keystore: empty directory path")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if err := os.MkdirAll(abs, dirMode); err != nil {
		return nil, fmt.Errorf("keystore: create key directory: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("keystore: %s is not a directory", abs)
	}
	if insecure(fi.Mode()) {
		return nil, fmt.Errorf("%w: key directory %s has mode %04o, want 0700 (only its owner may enter it): run chmod 700 %s",
			ErrInsecurePermissions, abs, uint32(fi.Mode().Perm()), abs)
	}
	return &Store{dir: abs, kdf: defaultKDF}, nil
}

// Dir returns the store's absolute directory.
func (s *Store) Dir() string { return s.dir }

// CreateOptions adjust Create.
type CreateOptions struct {
	// Unencrypted stores the private key in the clear, for tests and bots
	// that cannot prompt for a passphrase. The passphrase must then be
	// empty, and the file says "encryption": "none".
	Unencrypted bool
}

// Create generates a fresh Ed25519 key for (userID, deviceID), writes it to
// the store encrypted under passphrase, and returns it loaded. It fails with
// ErrExists if the device already has a key file, and with
// ErrEmptyPassphrase if passphrase is empty and opts.Unencrypted is not set.
// Create does not retain passphrase.
func (s *Store) Create(userID, deviceID string, passphrase []byte, opts CreateOptions) (*DeviceKey, error) {
	if err := validateIDs(userID, deviceID); err != nil {
		return nil, err
	}
	switch {
	case opts.Unencrypted && len(passphrase) > 0:
		return nil, fmt.Errorf("%w: a passphrase was given but Unencrypted is set; give one or the other", ErrInvalidOption)
	case !opts.Unencrypted && len(passphrase) == 0:
		return nil, fmt.Errorf("%w: a passphrase is required to create key %s/%s (set Unencrypted to store it in the clear)", ErrEmptyPassphrase, userID, deviceID)
	}
	path := s.path(userID, deviceID)
	// Fail before spending a second on the KDF; writeNew checks again.
	if _, err := os.Lstat(path); err == nil {
		return nil, existsError(userID, deviceID, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("keystore: %w", err)
	}

	seed := randomBytes(seedSize)
	defer clear(seed)
	key := newDeviceKey(userID, deviceID, seed)

	f := &keyFile{
		Version:   formatVersion,
		UserID:    userID,
		DeviceID:  deviceID,
		PublicKey: hexBytes(key.PublicKey()),
		CreatedAt: time.Now().UTC().Truncate(time.Second).Format(time.RFC3339),
	}
	if opts.Unencrypted {
		f.Encryption = encryptionNone
		f.Seed = hexBytes(seed)
	} else if err := seal(f, seed, passphrase, s.kdf); err != nil {
		key.wipe()
		return nil, fmt.Errorf("keystore: encrypt key: %w", err)
	}
	data, err := f.marshal()
	defer clear(data)
	if err != nil {
		key.wipe()
		return nil, fmt.Errorf("keystore: encode key file: %w", err)
	}
	if err := s.writeNew(path, data); err != nil {
		key.wipe()
		if errors.Is(err, fs.ErrExist) {
			return nil, existsError(userID, deviceID, path)
		}
		return nil, fmt.Errorf("keystore: write %s: %w", path, err)
	}
	return key, nil
}

// Load reads and decrypts the key of (userID, deviceID). The passphrase is
// ignored for a key stored with "encryption": "none". Errors: ErrNotFound,
// ErrInsecurePermissions, ErrEmptyPassphrase, ErrWrongPassphrase,
// ErrCorrupt, ErrUnsupportedVersion, ErrInvalidID. The caller should Close
// the key when done with it.
func (s *Store) Load(userID, deviceID string, passphrase []byte) (*DeviceKey, error) {
	if err := validateIDs(userID, deviceID); err != nil {
		return nil, err
	}
	path := s.path(userID, deviceID)
	f, err := s.readKeyFile(userID, deviceID, path)
	if err != nil {
		return nil, err
	}
	defer clear(f.Seed)

	var seed []byte
	switch f.Encryption {
	case encryptionNone:
		seed = f.Seed
	case encryptionAESGCM:
		if len(passphrase) == 0 {
			return nil, fmt.Errorf("%w: key %s/%s is encrypted; a passphrase is required", ErrEmptyPassphrase, userID, deviceID)
		}
		seed, err = open(f, passphrase)
		switch {
		case errors.Is(err, ErrWrongPassphrase):
			return nil, fmt.Errorf("%w for key %s/%s", ErrWrongPassphrase, userID, deviceID)
		case errors.Is(err, errAEAD):
			return nil, corruptError(path, err)
		case err != nil:
			return nil, fmt.Errorf("keystore: decrypt %s: %w", path, err)
		}
		defer clear(seed)
	}
	key := newDeviceKey(userID, deviceID, seed)
	if !bytes.Equal(key.pub, f.PublicKey) {
		key.wipe()
		return nil, corruptError(path, errors.New("private key does not match public_key"))
	}
	return key, nil
}

// KeyInfo is the public information of a stored key. It is read without a
// passphrase and so is not authenticated: Load is what proves a file
// intact.
type KeyInfo struct {
	UserID       string
	DeviceID     string
	PublicKey    ed25519.PublicKey
	PublicKeyHex string
	Encrypted    bool
	CreatedAt    time.Time
	Path         string
}

// List returns the public information of every key in the store, sorted by
// user and device. A file that cannot be read or parsed, or whose
// permissions are too open, is left out of keys and reported in skipped
// (one error per file, naming it); err is set only when the directory
// itself cannot be read.
func (s *Store) List() (keys []KeyInfo, skipped []error, err error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("keystore: read key directory: %w", err)
	}
	for _, e := range entries {
		userID, deviceID, ok, err := parseFileName(e.Name())
		if !ok {
			continue
		}
		path := filepath.Join(s.dir, e.Name())
		if err != nil {
			skipped = append(skipped, fmt.Errorf("%s: %w", path, err))
			continue
		}
		f, err := s.readKeyFile(userID, deviceID, path)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		clear(f.Seed)
		created, _ := time.Parse(time.RFC3339, f.CreatedAt) // checked by parseKeyFile
		keys = append(keys, KeyInfo{
			UserID:       f.UserID,
			DeviceID:     f.DeviceID,
			PublicKey:    ed25519.PublicKey(f.PublicKey),
			PublicKeyHex: fmt.Sprintf("%x", []byte(f.PublicKey)),
			Encrypted:    f.Encryption != encryptionNone,
			CreatedAt:    created,
			Path:         path,
		})
	}
	// ReadDir's name order is not (user, device) order: '.' sorts before '@'.
	slices.SortFunc(keys, func(a, b KeyInfo) int {
		return cmp.Or(cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.DeviceID, b.DeviceID))
	})
	return keys, skipped, nil
}

// Delete overwrites the key file of (userID, deviceID) with zeros and
// removes it. Overwriting is best effort: journaling and copy-on-write file
// systems and SSDs may keep old blocks. Delete needs no passphrase.
func (s *Store) Delete(userID, deviceID string) error {
	if err := validateIDs(userID, deviceID); err != nil {
		return err
	}
	path := s.path(userID, deviceID)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return notFoundError(userID, deviceID, s.dir)
	} else if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return corruptError(path, errors.New("not a regular file; remove it by hand"))
	}
	if err := zeroFile(path, fi); err != nil {
		return fmt.Errorf("keystore: zero %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	syncDir(s.dir)
	return nil
}

func (s *Store) path(userID, deviceID string) string {
	return filepath.Join(s.dir, fileName(userID, deviceID))
}

// readKeyFile reads, checks and parses the key file at path, which must be
// the file of (userID, deviceID).
func (s *Store) readKeyFile(userID, deviceID, path string) (*keyFile, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFoundError(userID, deviceID, s.dir)
	} else if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, corruptError(path, errors.New("not a regular file"))
	}
	if insecure(fi.Mode()) {
		return nil, fmt.Errorf("%w: key file %s has mode %04o, want 0600 (only its owner may read it): run chmod 600 %s",
			ErrInsecurePermissions, path, uint32(fi.Mode().Perm()), path)
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	defer file.Close()
	if fi2, err := file.Stat(); err != nil || !os.SameFile(fi, fi2) {
		return nil, corruptError(path, errors.New("file changed while being opened"))
	}
	data, err := io.ReadAll(io.LimitReader(file, maxFileSize+1))
	defer clear(data)
	if err != nil {
		return nil, fmt.Errorf("keystore: read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, corruptError(path, fmt.Errorf("larger than %d bytes", maxFileSize))
	}
	f, err := parseKeyFile(data)
	if errors.Is(err, ErrUnsupportedVersion) {
		return nil, fmt.Errorf("%s: %w", path, err)
	} else if err != nil {
		return nil, corruptError(path, err)
	}
	if f.UserID != userID || f.DeviceID != deviceID {
		clear(f.Seed)
		return nil, corruptError(path, fmt.Errorf("file holds the key of %s/%s, not %s/%s", f.UserID, f.DeviceID, userID, deviceID))
	}
	return f, nil
}

func existsError(userID, deviceID, path string) error {
	return fmt.Errorf("%w: device %s of user %s already has a key at %s; delete it first to replace it", ErrExists, deviceID, userID, path)
}

func notFoundError(userID, deviceID, dir string) error {
	return fmt.Errorf("%w: no key for user %s, device %s in %s", ErrNotFound, userID, deviceID, dir)
}

func corruptError(path string, reason error) error {
	return fmt.Errorf("%w: %s: %w", ErrCorrupt, path, reason)
}
