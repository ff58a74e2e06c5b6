/*
Copyright 2026 The gitseal Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gitseal/gitseal/cli/internal/hint"
)

// gitWorkTreeOf returns the root of the Git working tree that holds dir,
// or "" when dir is in none: dir or one of its parents holds .git.
func gitWorkTreeOf(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		abs = resolved
	}
	for d := abs; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", nil
		}
		d = parent
	}
}

// CheckSecretFile refuses a path that plaintext or private keys must not
// be written to: a path inside a Git working tree, unless force, where a
// `git add .` would commit it. An existing file is refused by
// CreateSecretFile.
func CheckSecretFile(path, what string, force bool) error {
	if force {
		return nil
	}
	root, err := gitWorkTreeOf(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	if root != "" {
		return hint.With(fmt.Errorf("refusing to write %s to %s: it is inside the Git working tree %s", what, path, root),
			"write it outside the repository, or pass --force if the path is ignored and never committed")
	}
	return nil
}

// CreateSecretFile writes data to a new file at path with mode 0600. It
// never replaces a file: an existing path is an error (O_EXCL), and a
// failed write removes what it created.
func CreateSecretFile(path string, data []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // G304: the user names the file.
	if errors.Is(err, fs.ErrExist) {
		return hint.With(fmt.Errorf("%s exists", path), "choose a new file; gitseal never overwrites one with secret material")
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(path)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
