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

package gitsource

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Auth holds the credentials for a fetch, usually read from a Secret with
// AuthFromSecret. HTTP(S) uses Username/Password or BearerToken; SSH uses
// SSHPrivateKey (with SSHPassphrase when it is encrypted) and KnownHosts.
// Fields that do not apply to the URL's scheme are ignored.
type Auth struct {
	Username, Password string // HTTP(S) basic auth
	BearerToken        string // HTTP(S) bearer token
	SSHPrivateKey      []byte // PEM or OpenSSH private key
	SSHPassphrase      []byte
	// KnownHosts holds the SSH server's host keys in known_hosts format;
	// ssh refuses to connect without a matching one. Hashed host names and
	// the * and ? wildcards are understood; @cert-authority lines are
	// ignored and @revoked keys are refused.
	KnownHosts []byte
	// CABundle holds PEM certificates of the authorities that may sign an
	// https server's certificate, instead of the system's.
	CABundle []byte
}

// The keys of a Secret's data that AuthFromSecret reads, as Flux names them.
const (
	secretUsername    = "username"
	secretPassword    = "password"
	secretBearerToken = "bearerToken"
	secretIdentity    = "identity"
	secretKnownHosts  = "known_hosts"
	secretCA          = "ca.crt"
)

// AuthFromSecret reads the Flux-compatible keys of a Secret's data:
// username, password, bearerToken, identity (an SSH private key),
// known_hosts, ca.crt (PEM certificate authorities for https) and
// identity.pub (ignored). With identity set, password is the
// key's passphrase, as in Flux; otherwise it is the basic-auth password.
// Other keys are ignored, and so are empty values.
//
// Errors wrap ErrInvalid and name the offending key, never its value: a
// password without username, a bearerToken together with username or
// password, an identity that does not parse (or is encrypted and the
// passphrase is missing or wrong), and known_hosts that do not parse.
func AuthFromSecret(data map[string][]byte) (*Auth, error) {
	get := func(k string) string { return string(data[k]) }
	a := &Auth{
		Username:    get(secretUsername),
		BearerToken: get(secretBearerToken),
		KnownHosts:  data[secretKnownHosts],
		CABundle:    data[secretCA],
	}
	if id := data[secretIdentity]; len(id) > 0 {
		a.SSHPrivateKey = id
		if p := data[secretPassword]; len(p) > 0 {
			a.SSHPassphrase = p
		}
	} else {
		a.Password = get(secretPassword)
	}
	if a.BearerToken != "" && (a.Username != "" || a.Password != "") {
		return nil, invalidSecret("key %s cannot be combined with %s or %s", secretBearerToken, secretUsername, secretPassword)
	}
	if a.Password != "" && a.Username == "" {
		return nil, invalidSecret("key %s is set without %s", secretPassword, secretUsername)
	}
	if len(a.SSHPrivateKey) > 0 {
		if _, err := a.signer(); err != nil {
			return nil, invalidSecret("key %s: %v", secretIdentity, err)
		}
	}
	if len(a.CABundle) > 0 && !x509.NewCertPool().AppendCertsFromPEM(a.CABundle) {
		return nil, invalidSecret("key %s holds no PEM certificate", secretCA)
	}
	if len(a.KnownHosts) > 0 {
		if _, err := parseKnownHosts(a.KnownHosts); err != nil {
			return nil, invalidSecret("key %s: %v", secretKnownHosts, err)
		}
	}
	return a, nil
}

func invalidSecret(format string, args ...any) error {
	return fmt.Errorf("%w secret: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// signer parses the private key. Its errors say what is wrong without
// quoting the parser, whose messages are not promised to leave key material
// out.
func (a *Auth) signer() (ssh.Signer, error) {
	s, err := ssh.ParsePrivateKey(a.SSHPrivateKey)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return s, nil
	case !errors.As(err, &missing):
		return nil, errors.New("not a valid ssh private key")
	case len(a.SSHPassphrase) == 0:
		return nil, errors.New("the private key is encrypted and no passphrase is given")
	}
	s, err = ssh.ParsePrivateKeyWithPassphrase(a.SSHPrivateKey, a.SSHPassphrase)
	if err != nil {
		return nil, errors.New("the private key cannot be decrypted with the passphrase")
	}
	return s, nil
}

// secrets lists the strings that must never appear in an error message.
func (a *Auth) secrets() []string {
	if a == nil {
		return nil
	}
	var s []string
	for _, v := range []string{a.Password, a.BearerToken, string(a.SSHPassphrase), string(a.SSHPrivateKey)} {
		if v != "" {
			s = append(s, v)
		}
	}
	if a.Password != "" {
		// As it goes over the wire in a basic Authorization header.
		s = append(s, base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password)))
	}
	// A key may be quoted a line at a time.
	for line := range strings.SplitSeq(string(a.SSHPrivateKey), "\n") {
		if line = strings.TrimSpace(line); len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			s = append(s, line)
		}
	}
	return s
}
