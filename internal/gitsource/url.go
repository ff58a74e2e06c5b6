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
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// remote is a URL that Fetch accepts, taken apart.
type remote struct {
	scheme   string // http, https or ssh
	display  string // the URL without userinfo, for messages
	httpURL  string // http(s) only: the URL to fetch
	host     string // without brackets
	port     string // ssh only: never empty
	user     string // ssh only: the login name, "git" by default
	path     string // ssh only: the path git-upload-pack is given
	loopback bool
}

// ValidateURL returns nil for a URL that Fetch accepts: http://, https:// or
// ssh:// with a host and a path, or scp-like [user@]host:path. It refuses
// any other scheme (file://, git://, ftp:// …), local paths, an empty host,
// a query or fragment, userinfo in an http(s) URL (a token in the username
// is a credential too) and a password in an ssh URL: credentials belong in
// the Secret. Errors wrap ErrInvalid and never repeat the URL.
func ValidateURL(raw string) error {
	_, err := parseRemote(raw)
	return err
}

// scpLike is git's [user@]host:path, where host has no slash and may be a
// bracketed IPv6 address.
var scpLike = regexp.MustCompile(`^(?:([^@/:\[\]\s]+)@)?(\[[^\]/\s]+\]|[^@/:\[\]\s]+):(.*)$`)

// hostName is a DNS name (underscores tolerated) that cannot be read as an
// option: it starts and ends with a letter or digit.
var hostName = regexp.MustCompile(`^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$`)

// validHost accepts a host name or an IP address, nothing that a program
// down the line could take for an option or a command.
func validHost(host string) bool {
	return net.ParseIP(host) != nil || hostName.MatchString(host)
}

func parseRemote(raw string) (remote, error) {
	if raw == "" {
		return remote{}, invalidURL("empty")
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return remote{}, invalidURL("holds control characters")
	}
	if !strings.Contains(raw, "://") {
		return parseSCPLike(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, password included: say less.
		return remote{}, invalidURL("cannot be parsed")
	}
	switch u.Scheme {
	case "http", "https", "ssh":
	case "file":
		return remote{}, invalidURL("file:// is not allowed")
	default:
		return remote{}, invalidURL(fmt.Sprintf("scheme %q is not supported", u.Scheme))
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return remote{}, invalidURL("no host")
	}
	if !validHost(u.Hostname()) {
		return remote{}, invalidURL("the host is not a host name or IP address")
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		return remote{}, invalidURL("password in its userinfo")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return remote{}, invalidURL("has a query or fragment")
	}
	if strings.Trim(u.Path, "/") == "" {
		return remote{}, invalidURL("no repository path")
	}
	r := remote{scheme: u.Scheme, host: u.Hostname(), loopback: isLoopback(u.Hostname())}
	if u.Scheme == "ssh" {
		r.user = u.User.Username()
		r.port = u.Port()
		r.path = u.Path
		if strings.HasPrefix(r.path, "/~") {
			r.path = r.path[1:] // ssh://host/~user/repo is ~user/repo, as git has it
		}
	} else {
		if u.User != nil {
			return remote{}, invalidURL("userinfo in an http(s) url")
		}
		r.httpURL = u.String()
	}
	u.User = nil
	r.display = u.String()
	return r.withSSHDefaults(), nil
}

func parseSCPLike(raw string) (remote, error) {
	m := scpLike.FindStringSubmatch(raw)
	if m == nil {
		return remote{}, invalidURL("no scheme, and not scp-like [user@]host:path")
	}
	user, host, path := m[1], strings.Trim(m[2], "[]"), m[3]
	if host == "" || path == "" {
		return remote{}, invalidURL("no host or no repository path")
	}
	if !validHost(host) || strings.HasPrefix(user, "-") {
		return remote{}, invalidURL("the host is not a host name or IP address")
	}
	if strings.HasPrefix(path, "-") || strings.HasPrefix(path, ":") {
		return remote{}, invalidURL("the repository path looks like an option or a transport")
	}
	// "user:password@host:path" parses as host "user" and a path holding the
	// password: refuse what looks like userinfo in the path.
	if at := strings.IndexByte(path, '@'); at >= 0 && !strings.Contains(path[:at], "/") {
		return remote{}, invalidURL("what looks like a password in its userinfo")
	}
	r := remote{
		scheme:   "ssh",
		display:  m[2] + ":" + path,
		host:     host,
		user:     user,
		path:     path,
		loopback: isLoopback(host),
	}
	return r.withSSHDefaults(), nil
}

func (r remote) withSSHDefaults() remote {
	if r.scheme != "ssh" {
		return r
	}
	if r.user == "" {
		r.user = "git"
	}
	if r.port == "" {
		r.port = "22"
	}
	return r
}

// key names the repository for the checkout cache: two URLs with one key
// fetch from the same place as the same user. It holds no credentials:
// parseRemote refuses them in a URL.
func (r remote) key() string {
	if r.scheme == "ssh" {
		return "ssh://" + r.user + "@" + strings.ToLower(net.JoinHostPort(r.host, r.port)) + ":" + r.path
	}
	u, err := url.Parse(r.httpURL)
	if err != nil {
		return r.httpURL
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u.String()
}

// addr is the ssh server's host:port.
func (r remote) addr() string {
	return net.JoinHostPort(r.host, r.port)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func invalidURL(why string) error {
	return fmt.Errorf("%w url: %s", ErrInvalid, why)
}

func validRefName(name string) bool {
	return plumbing.ReferenceName(name).Validate() == nil
}
