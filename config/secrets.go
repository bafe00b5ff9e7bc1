package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// ReadSecretFile reads a secret or token file: Validate checks with it that
// the file can be used, and the credentials read it at every signing so a
// rotated file takes effect. Its errors never show the content, nor the
// path when the path may itself be a secret pasted into a *_file key by
// mistake.
func ReadSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		_, statErr := os.Lstat(path)
		printable := statErr == nil || pathLooksReal(path)
		switch {
		case printable && os.IsNotExist(err):
			return "", fmt.Errorf("file %q not found", path)
		case printable:
			return "", fmt.Errorf("%q: %w", path, unwrapPathError(err))
		case os.IsNotExist(err):
			return "", fmt.Errorf("file not found (value hidden: it may be a secret pasted by mistake)")
		default:
			return "", fmt.Errorf("%w (value hidden: it may be a secret pasted by mistake)", unwrapPathError(err))
		}
	}
	s := string(bytes.TrimSpace(b))
	if s == "" {
		return "", fmt.Errorf("%q is empty", path)
	}
	return s, nil
}

var fileNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// pathLooksReal tells a mistyped path (safe to print, and the printed path is
// what the user needs) from a pasted secret, which relative-path resolution
// also turns into "<config dir>/<secret>". Access key secrets are random
// mixed-case letters and digits; STS tokens and JWTs are long and carry
// "+", "/" or "=". A file name has none of these looks.
func pathLooksReal(path string) bool {
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return false
	}
	base := filepath.Base(path)
	if !fileNameRE.MatchString(base) {
		return false
	}
	upper := strings.ContainsFunc(base, unicode.IsUpper)
	lower := strings.ContainsFunc(base, unicode.IsLower)
	digit := strings.ContainsFunc(base, unicode.IsDigit)
	randomLooking := upper && lower && digit
	if strings.ContainsAny(base, "._-") {
		// base64url tokens carry "-" and "_" too: long random-looking
		// names are hidden even with separators.
		return !randomLooking || len(base) < 20
	}
	return len(base) < 16 && !randomLooking
}

// unwrapPathError drops the path and keeps the operation and cause: the
// caller names the file itself, or hides it.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot %s: %w", pe.Op, pe.Err)
	}
	return err
}
