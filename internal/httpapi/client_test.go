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

package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

func TestClientNewRefusesBadURLs(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"a URL without a scheme is refused", "gitseal:8000", "want http(s)://"},
		{"a non-HTTP scheme is refused", "ftp://gitseal", "want http(s)://"},
		{"credentials in the URL are refused and redacted", "http://user:s3cret@gitseal:8000", "credentials in the URL"}, // gitseal:allow a fake credential, to test its redaction
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.url, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New(%q) = %v, want an error containing %q", tt.url, err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestClientServiceProxyPath(t *testing.T) {
	var gotPath, gotQuery, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery, gotAuth = r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization")
		_ = json.NewEncoder(w).Encode(ResealResponse{SealedSecret: &gitsealv1alpha1.SealedSecret{}})
	}))
	defer srv.Close()
	c, err := NewServiceProxy(&rest.Config{Host: srv.URL + "/k8s/clusters/c-1", BearerToken: "tok"}, "gitseal-system", "gitseal", "http")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reseal(context.Background(), &gitsealv1alpha1.SealedSecret{}, true); err != nil {
		t.Fatal(err)
	}
	want := "/k8s/clusters/c-1/api/v1/namespaces/gitseal-system/services/http:gitseal:http/proxy/v1/reseal"
	if gotPath != want || gotQuery != "onlyRetired=true" || gotAuth != "Bearer tok" {
		t.Errorf("request = %s?%s (auth %q), want %s?onlyRetired=true with the bearer token", gotPath, gotQuery, gotAuth, want)
	}
}

func TestClientErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode int
		wantMsg  string
	}{
		{"the controller's error body becomes the message", 422, `{"error":"item \"a\": no matching key"}`, 422, `item "a": no matching key`},
		{"the proxy's Status message is used", 503, `{"kind":"Status","message":"no endpoints available for service \"gitseal\""}`, 503, "no endpoints available"},
		{"a text body is cut short", 502, strings.Repeat("x", 500), 502, strings.Repeat("x", 200) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c, err := New(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Validate(context.Background(), &gitsealv1alpha1.SealedSecret{})
			se, ok := errors.AsType[*StatusError](err)
			if !ok || se.Code != tt.wantCode || !strings.Contains(se.Message, tt.wantMsg) {
				t.Fatalf("err = %v, want a StatusError %d containing %q", err, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestClientKeysDecodesTheList(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != PathKeys {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"keys":[{"id":"0123456789abcdef","kind":"hybrid","recipient":"age1pq1x","created":"2026-11-01T09:00:00Z","state":"active"}],` +
			`"retired":["fedcba9876543210"]}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := c.Keys(context.Background())
	if err != nil || len(ks) != 2 || ks[0].ID != "0123456789abcdef" || ks[0].State != "active" {
		t.Fatalf("Keys = %+v, %v", ks, err)
	}
	if ks[1].ID != "fedcba9876543210" || ks[1].State != "retired" || ks[1].Recipient != "" {
		t.Errorf("retired key = %+v, want its ID and state alone", ks[1])
	}
}
