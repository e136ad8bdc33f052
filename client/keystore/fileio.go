package keystore

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
)

// writeNew stores data at path atomically and only if path does not exist:
// it writes a temporary file, syncs it and hard-links it into place (link,
// unlike rename, fails when the target exists). On a file system without
// hard links it falls back to check-then-rename.
func (s *Store) writeNew(path string, data []byte) error {
	tmp, err := os.CreateTemp(s.dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(fileMode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		if _, statErr := os.Lstat(path); statErr == nil {
			return fs.ErrExist
		}
		if err := os.Rename(tmpName, path); err != nil {
			return err
		}
	}
	syncDir(s.dir)
	return nil
}

// zeroFile overwrites the regular file at path, which Lstat described as
// fi, with zeros and syncs it.
func zeroFile(path string, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o200 == 0 { // e.g. a key the user made read-only
		if err := os.Chmod(path, fileMode); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi2, err := f.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(fi, fi2) {
		return errors.New("file changed while being opened")
	}
	zeros := make([]byte, 4096)
	for left := fi2.Size(); left > 0; {
		n := int64(len(zeros))
		if left < n {
			n = left
		}
		if _, err := f.Write(zeros[:n]); err != nil {
			return err
		}
		left -= n
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// syncDir makes a directory entry change durable; errors are ignored
// because some platforms cannot sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// insecure reports whether mode grants group or others any access. Windows
// has no such bits (os reports 0666 or 0444), so it is not checked there.
func insecure(mode fs.FileMode) bool {
	return runtime.GOOS != "windows" && mode.Perm()&0o077 != 0
}
