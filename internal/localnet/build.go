package localnet

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Binaries are the parleyd and parley binaries BuildBinaries built.
type Binaries struct {
	Dir     string
	Parleyd string
	Parley  string
}

// The ldflags of the Makefile's build, so the test binaries name themselves
// (and their keyring service) as `make build`'s do.
const ldflags = "-X github.com/cosmos/cosmos-sdk/version.Name=parley " +
	"-X github.com/cosmos/cosmos-sdk/version.AppName=parleyd " +
	"-X github.com/cosmos/cosmos-sdk/version.Version=localnet-test"

var built struct {
	once sync.Once
	bin  Binaries
	err  error
}

// BuildBinaries builds parleyd and parley from the working tree into
// <repo>/build/test-bin, once per test process. go build leaves binaries
// that are up to date alone, so later test processes pay only for the
// check; a file lock keeps two test processes from writing them at once.
func BuildBinaries(t testing.TB) Binaries {
	t.Helper()
	built.once.Do(func() { built.bin, built.err = buildBinaries() })
	if built.err != nil {
		t.Fatalf("localnet: building the binaries: %v", built.err)
	}
	return built.bin
}

func buildBinaries() (Binaries, error) {
	root, err := RepoRoot()
	if err != nil {
		return Binaries{}, err
	}
	dir := filepath.Join(root, "build", "test-bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binaries{}, err
	}
	unlock, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return Binaries{}, err
	}
	defer unlock()
	cmd := exec.Command("go", "build", "-ldflags", ldflags, "-o", dir+string(filepath.Separator),
		"./cmd/parleyd", "./cmd/parley")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return Binaries{}, fmt.Errorf("go build: %w\n%s", err, out)
	}
	return Binaries{
		Dir:     dir,
		Parleyd: filepath.Join(dir, "parleyd"),
		Parley:  filepath.Join(dir, "parley"),
	}, nil
}

// RepoRoot is the directory holding go.mod, found by walking up from the
// working directory (a package's directory under go test).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("localnet: no go.mod above the working directory")
		}
		dir = parent
	}
}
