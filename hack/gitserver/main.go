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

// Command gitserver serves the bare Git repositories under a directory over
// https on 127.0.0.1, with git http-backend and a certificate from a
// throwaway authority: the Git host of `make demo`. It writes its base URL
// and the authority's certificate (PEM) to files and runs until
// interrupted.
package main

import (
	"encoding/pem"
	"flag"
	"fmt"
	"net/http/cgi" //nolint:gosec // G504: httpoxy is fixed since Go 1.6.3; git http-backend is the point.
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	root := flag.String("root", "", "directory of bare repositories (required)")
	urlFile := flag.String("url-file", "", "where to write the base URL (required)")
	caFile := flag.String("ca-file", "", "where to write the certificate authority, PEM (required)")
	flag.Parse()
	if *root == "" || *urlFile == "" || *caFile == "" {
		fmt.Fprintln(os.Stderr, "gitserver: --root, --url-file and --ca-file are required")
		os.Exit(2)
	}
	if err := run(*root, *urlFile, *caFile); err != nil {
		fmt.Fprintln(os.Stderr, "gitserver:", err)
		os.Exit(1)
	}
}

func run(root, urlFile, caFile string) error {
	git, err := exec.LookPath("git")
	if err != nil {
		return fmt.Errorf("git is needed to serve repositories: %w", err)
	}
	backend := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Dir:  root,
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"},
	}
	srv := httptest.NewTLSServer(backend)
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(urlFile, []byte(srv.URL), 0o600); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "gitserver: serving", root, "at", srv.URL)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	<-signals
	return nil
}
