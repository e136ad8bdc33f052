package keystore

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// fastKDF keeps the tests quick; files record whatever a store used, and
// Open always starts from defaultKDF.
var fastKDF = kdfSettings{time: 1, memoryKiB: 64, threads: 1}

var pass = []byte("correct horse battery staple")

func newTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "parley", "keys"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.kdf = fastKDF
	return s
}

func mustCreate(t *testing.T, s *Store, user, device string, passphrase []byte) *DeviceKey {
	t.Helper()
	k, err := s.Create(user, device, passphrase, CreateOptions{Unencrypted: len(passphrase) == 0})
	if err != nil {
		t.Fatalf("Create(%s, %s): %v", user, device, err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func skipPermsOnWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits on Windows")
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name       string
		passphrase []byte
		opts       CreateOptions
		encryption string
	}{
		{"encrypted", pass, CreateOptions{}, encryptionAESGCM},
		{"unencrypted", nil, CreateOptions{Unencrypted: true}, encryptionNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStore(t)
			created, err := s.Create("alice", "laptop", tc.passphrase, tc.opts)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			defer created.Close()
			msg := []byte("parley/v1/test")
			if !ed25519.Verify(created.PublicKey(), msg, created.SignMessage(msg)) {
				t.Fatal("created key's signature does not verify")
			}

			loaded, err := s.Load("alice", "laptop", tc.passphrase)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			defer loaded.Close()
			if loaded.UserID != "alice" || loaded.DeviceID != "laptop" {
				t.Errorf("loaded ids = %s/%s", loaded.UserID, loaded.DeviceID)
			}
			if !bytes.Equal(loaded.pub, created.pub) {
				t.Fatalf("loaded public key %x, created %x", loaded.pub, created.pub)
			}
			if !ed25519.Verify(created.pub, msg, loaded.SignMessage(msg)) {
				t.Fatal("loaded key's signature does not verify under the created public key")
			}

			path := s.path("alice", "laptop")
			if filepath.Base(path) != "alice@laptop.key.json" {
				t.Errorf("file name %s", filepath.Base(path))
			}
			doc := readDoc(t, path)
			if doc["encryption"] != tc.encryption {
				t.Errorf(`"encryption" = %v, want %s`, doc["encryption"], tc.encryption)
			}
			if doc["public_key"] != hex.EncodeToString(created.pub) {
				t.Errorf(`"public_key" = %v`, doc["public_key"])
			}
			_, hasSeed := doc["seed"]
			if hasSeed != (tc.encryption == encryptionNone) {
				t.Errorf("seed in file = %v, encryption %s", hasSeed, tc.encryption)
			}

			keys, skipped, err := s.List()
			if err != nil || len(skipped) != 0 {
				t.Fatalf("List: %v, skipped %v", err, skipped)
			}
			if len(keys) != 1 {
				t.Fatalf("List returned %d keys, want 1", len(keys))
			}
			k := keys[0]
			if k.UserID != "alice" || k.DeviceID != "laptop" || k.Path != path ||
				k.PublicKeyHex != hex.EncodeToString(created.pub) || !bytes.Equal(k.PublicKey, created.pub) ||
				k.Encrypted != (tc.encryption != encryptionNone) || k.CreatedAt.IsZero() {
				t.Errorf("List = %+v", k)
			}
		})
	}
}

func TestModes(t *testing.T) {
	skipPermsOnWindows(t)
	s := newTestStore(t)
	mustCreate(t, s, "alice", "laptop", pass)
	for path, want := range map[string]fs.FileMode{
		s.Dir():                   0o700,
		filepath.Dir(s.Dir()):     0o700, // parents made by Open too
		s.path("alice", "laptop"): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %04o, want %04o", path, got, want)
		}
	}
	entries, _ := os.ReadDir(s.Dir())
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file (temp file left behind?)", len(entries))
	}
}

func TestDefaultKDFRecorded(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Argon2id with 64 MiB")
	}
	s, err := Open(t.TempDir() + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	if s.kdf != defaultKDF {
		t.Fatalf("Open uses KDF %+v, want %+v", s.kdf, defaultKDF)
	}
	k, err := s.Create("alice", "laptop", pass, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	doc := readDoc(t, s.path("alice", "laptop"))
	kdf := doc["kdf"].(map[string]any)
	if kdf["name"] != "argon2id" || kdf["time"] != 3.0 || kdf["memory_kib"] != 65536.0 || kdf["threads"] != 2.0 || len(kdf["salt"].(string)) != 32 {
		t.Errorf("kdf = %v", kdf)
	}
	if _, err := s.Load("alice", "laptop", pass); err != nil {
		t.Fatalf("Load: %v", err)
	}
}

func TestWrongPassphrase(t *testing.T) {
	s := newTestStore(t)
	mustCreate(t, s, "alice", "laptop", pass)
	_, err := s.Load("alice", "laptop", []byte("Correct horse battery staple"))
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Load with wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
	if !strings.Contains(err.Error(), "alice/laptop") {
		t.Errorf("error %q does not name the key", err)
	}
	if _, err := s.Load("alice", "laptop", nil); !errors.Is(err, ErrEmptyPassphrase) {
		t.Fatalf("Load with empty passphrase: %v, want ErrEmptyPassphrase", err)
	}
}

func TestPassphraseRules(t *testing.T) {
	s := newTestStore(t)
	for _, tc := range []struct {
		name       string
		passphrase []byte
		opts       CreateOptions
		want       error
	}{
		{"nil passphrase", nil, CreateOptions{}, ErrEmptyPassphrase},
		{"empty passphrase", []byte{}, CreateOptions{}, ErrEmptyPassphrase},
		{"passphrase and unencrypted", pass, CreateOptions{Unencrypted: true}, ErrInvalidOption},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Create("alice", "laptop", tc.passphrase, tc.opts); !errors.Is(err, tc.want) {
				t.Fatalf("Create: %v, want %v", err, tc.want)
			}
			if _, err := os.Stat(s.path("alice", "laptop")); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a refused Create left a file: %v", err)
			}
		})
	}
}

func TestUnencryptedIgnoresPassphraseOnLoad(t *testing.T) {
	s := newTestStore(t)
	k := mustCreate(t, s, "bot", "ci", nil)
	l, err := s.Load("bot", "ci", []byte("anything"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !bytes.Equal(l.pub, k.pub) {
		t.Fatal("public keys differ")
	}
}

func TestRefuseOverwrite(t *testing.T) {
	for _, unencrypted := range []bool{false, true} {
		s := newTestStore(t)
		p := pass
		if unencrypted {
			p = nil
		}
		first := mustCreate(t, s, "alice", "laptop", p)
		path := s.path("alice", "laptop")
		before, _ := os.ReadFile(path)
		_, err := s.Create("alice", "laptop", p, CreateOptions{Unencrypted: unencrypted})
		if !errors.Is(err, ErrExists) {
			t.Fatalf("second Create: %v, want ErrExists", err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the file", err)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Fatal("second Create changed the key file")
		}
		l, err := s.Load("alice", "laptop", p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(l.pub, first.pub) {
			t.Fatal("stored key is no longer the first one")
		}
		l.Close()
	}
}

// TestWriteNewRace checks the link step itself, which the early Lstat in
// Create usually hides.
func TestWriteNewRace(t *testing.T) {
	s := newTestStore(t)
	path := s.path("alice", "laptop")
	if err := s.writeNew(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := s.writeNew(path, []byte("second")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("writeNew over an existing file: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "first" {
		t.Fatalf("file holds %q", b)
	}

	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			k, err := s.Create("bob", "phone", nil, CreateOptions{Unencrypted: true})
			errs[i] = err
			if err == nil {
				k.Close()
			}
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ErrExists):
			t.Errorf("concurrent Create: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent Creates succeeded, want 1", wins)
	}
}

func TestBadIDs(t *testing.T) {
	s := newTestStore(t)
	for _, tc := range []struct {
		name, user, device, field string
	}{
		{"user too short", "ab", "laptop", "user_id"},
		{"user too long", strings.Repeat("a", 33), "laptop", "user_id"},
		{"user upper case", "Alice", "laptop", "user_id"},
		{"user leading dash", "-alice", "laptop", "user_id"},
		{"user leading dot", ".alice", "laptop", "user_id"},
		{"user with @", "al@ce", "laptop", "user_id"},
		{"user with slash", "al/ce", "laptop", "user_id"},
		{"user empty", "", "laptop", "user_id"},
		{"device empty", "alice", "", "device_id"},
		{"device too long", "alice", strings.Repeat("d", 33), "device_id"},
		{"device upper case", "alice", "Laptop", "device_id"},
		{"device with slash", "alice", "../x", "device_id"},
		{"device with @", "alice", "a@b", "device_id"},
		{"device with space", "alice", "my laptop", "device_id"},
		{"device with newline", "alice", "x\n", "device_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, ErrInvalidID) {
					t.Fatalf("%s: %v, want ErrInvalidID", op, err)
				}
				if !strings.Contains(err.Error(), tc.field) {
					t.Errorf("%s: error %q does not name %s", op, err, tc.field)
				}
			}
			_, err := s.Create(tc.user, tc.device, pass, CreateOptions{})
			check("Create", err)
			_, err = s.Load(tc.user, tc.device, pass)
			check("Load", err)
			check("Delete", s.Delete(tc.user, tc.device))
		})
	}
	if entries, _ := os.ReadDir(s.Dir()); len(entries) != 0 {
		t.Fatalf("bad IDs left %d files", len(entries))
	}
}

// TestEdgeIDs uses the extremes of both patterns, and a pair that a "__"
// separator could not tell apart.
func TestEdgeIDs(t *testing.T) {
	s := newTestStore(t)
	ids := [][2]string{
		{"abc_", "x"},
		{"abc", "_x"},
		{"a.b", "."},
		{"0-9", ".."},
		{strings.Repeat("z", 32), strings.Repeat("-", 32)},
	}
	for _, id := range ids {
		mustCreate(t, s, id[0], id[1], nil)
	}
	keys, skipped, err := s.List()
	if err != nil || len(skipped) != 0 {
		t.Fatalf("List: %v %v", err, skipped)
	}
	if len(keys) != len(ids) {
		t.Fatalf("List returned %d keys, want %d", len(keys), len(ids))
	}
	for _, id := range ids {
		k, err := s.Load(id[0], id[1], nil)
		if err != nil {
			t.Fatalf("Load(%q, %q): %v", id[0], id[1], err)
		}
		k.Close()
	}
}

func TestNotFound(t *testing.T) {
	s := newTestStore(t)
	_, err := s.Load("alice", "laptop", pass)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load: %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "alice") || !strings.Contains(err.Error(), "laptop") {
		t.Errorf("error %q does not name user and device", err)
	}
	if err := s.Delete("alice", "laptop"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete: %v, want ErrNotFound", err)
	}
}

func TestInsecurePermissions(t *testing.T) {
	skipPermsOnWindows(t)
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
		s := newTestStore(t)
		mustCreate(t, s, "alice", "laptop", pass)
		path := s.path("alice", "laptop")
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := s.Load("alice", "laptop", pass)
		if !errors.Is(err, ErrInsecurePermissions) {
			t.Fatalf("mode %04o: Load: %v, want ErrInsecurePermissions", mode, err)
		}
		if !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("error %q does not tell the user to chmod", err)
		}
		keys, skipped, err := s.List()
		if err != nil || len(keys) != 0 || len(skipped) != 1 || !errors.Is(skipped[0], ErrInsecurePermissions) {
			t.Fatalf("mode %04o: List = %v, %v, %v", mode, keys, skipped, err)
		}
	}

	// Narrower than 0600 is fine.
	s := newTestStore(t)
	mustCreate(t, s, "alice", "laptop", pass)
	if err := os.Chmod(s.path("alice", "laptop"), 0o400); err != nil {
		t.Fatal(err)
	}
	k, err := s.Load("alice", "laptop", pass)
	if err != nil {
		t.Fatalf("mode 0400: %v", err)
	}
	k.Close()
}

func TestInsecureDirectory(t *testing.T) {
	skipPermsOnWindows(t)
	dir := filepath.Join(t.TempDir(), "keys")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if !errors.Is(err, ErrInsecurePermissions) {
		t.Fatalf("Open: %v, want ErrInsecurePermissions", err)
	}
	if !strings.Contains(err.Error(), "chmod 700 "+dir) {
		t.Errorf("error %q does not tell the user to chmod", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatalf("Open after chmod 700: %v", err)
	}

	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(file); err == nil {
		t.Fatal("Open of a regular file succeeded")
	}
}

func TestSymlinkRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	s := newTestStore(t)
	mustCreate(t, s, "alice", "laptop", pass)
	target := s.path("alice", "laptop")
	link := s.path("alice", "phone")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("alice", "phone", pass); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load through a symlink: %v, want ErrCorrupt", err)
	}
	if err := s.Delete("alice", "phone"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Delete of a symlink: %v, want ErrCorrupt", err)
	}
	if _, err := os.Stat(target); err != nil {
		t.Fatalf("target gone: %v", err)
	}
}

func TestList(t *testing.T) {
	s := newTestStore(t)
	mustCreate(t, s, "carol", "tablet", pass)
	mustCreate(t, s, "alice", "phone", nil)
	mustCreate(t, s, "alice", "laptop", pass)
	mustCreate(t, s, "alice.b", "desk", nil) // "alice.b@" sorts before "alice@" by name
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(s.Dir(), name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("zed@broken.key.json", "{not json")
	write("Bad@name.key.json", "{}")
	write("noseparator.key.json", "{}")
	write("README", "not a key")
	write(".tmp-12345", "half written")
	if err := os.Mkdir(filepath.Join(s.Dir(), "sub"), 0o700); err != nil {
		t.Fatal(err)
	}

	keys, skipped, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.UserID+"/"+k.DeviceID)
	}
	want := []string{"alice/laptop", "alice/phone", "alice.b/desk", "carol/tablet"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("List = %v, want %v", got, want)
	}
	if len(skipped) != 3 {
		t.Fatalf("skipped = %v, want 3 errors", skipped)
	}
	joined := errors.Join(skipped...).Error()
	for _, name := range []string{"zed@broken.key.json", "Bad@name.key.json", "noseparator.key.json"} {
		if !strings.Contains(joined, name) {
			t.Errorf("skipped errors do not name %s: %s", name, joined)
		}
	}
	if !errors.Is(errors.Join(skipped...), ErrCorrupt) || !errors.Is(errors.Join(skipped...), ErrInvalidID) {
		t.Errorf("skipped errors: %v", skipped)
	}
}

func TestListMissingDirectory(t *testing.T) {
	s := newTestStore(t)
	if err := os.Remove(s.Dir()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.List(); err == nil {
		t.Fatal("List of a removed directory succeeded")
	}
}

func TestDelete(t *testing.T) {
	s := newTestStore(t)
	mustCreate(t, s, "alice", "laptop", pass)
	mustCreate(t, s, "alice", "phone", pass)
	path := s.path("alice", "laptop")
	size := fileSize(t, path)

	// A second link to the same inode shows what Delete left in it.
	observer := filepath.Join(t.TempDir(), "observer")
	if err := os.Link(path, observer); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if err := s.Delete("alice", "laptop"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	left, err := os.ReadFile(observer)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(left)) != size || !bytes.Equal(left, make([]byte, size)) {
		t.Fatalf("deleted file was not zeroed: %q", left)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("file still there: %v", err)
	}
	if _, err := s.Load("alice", "laptop", pass); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after Delete: %v", err)
	}
	if _, err := s.Load("alice", "phone", pass); err != nil {
		t.Fatalf("Delete touched another key: %v", err)
	}
	// The device can get a new key once the old one is gone.
	mustCreate(t, s, "alice", "laptop", pass)

	// A key the user made read-only can still be deleted.
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("alice", "laptop"); err != nil {
		t.Fatalf("Delete of a 0400 file: %v", err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func readDoc(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}
