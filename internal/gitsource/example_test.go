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

package gitsource_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/gitseal/gitseal/internal/gitsource"
)

func ExampleFetch() {
	// data is a Secret's data, as the controller reads it.
	data := map[string][]byte{"bearerToken": []byte(os.Getenv("GIT_TOKEN"))}
	auth, err := gitsource.AuthFromSecret(data)
	if err != nil {
		fmt.Println(err) // names the key at fault, never its value
		return
	}
	dir, err := os.MkdirTemp("", "checkout")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = os.RemoveAll(dir) }()

	c, err := gitsource.Fetch(context.Background(), gitsource.Options{
		URL:  "https://git.example.com/platform/deploy.git",
		Ref:  gitsource.Ref{Branch: "main"},
		Auth: auth,
	}, dir)
	switch {
	case errors.Is(err, gitsource.ErrUnavailable):
		fmt.Println("retry later:", err)
	case err != nil:
		fmt.Println("stalled:", err)
	default:
		fmt.Println("fetched", c.Revision)
	}
}
