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

package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/repoconfig"
)

func TestPlanRefresh(t *testing.T) {
	created := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	key := func(path string) string { return lastLine(t, path) }
	published := []publishedKey{
		{PublicKey: keys.PublicKey{ID: "ad95a07f800fcc69", Recipient: key("testdata/keys/cluster.pub"), Created: created, State: keys.Active}},
		{PublicKey: keys.PublicKey{ID: "441d5081879ea203", Recipient: key("testdata/keys/old.pub"), Created: created.AddDate(0, -5, 0), State: keys.Old}},
		{PublicKey: keys.RetiredPublicKey("1781a639514741f0")},
	}
	active := repoconfig.Entry{Value: key("testdata/keys/cluster.pub"), Comment: "id: ad95a07f800fcc69 created: 2026-11-01T09:00:00Z"}
	tests := []struct {
		name          string
		cluster       repoconfig.Cluster
		wantRetired   []string
		wantWas       []droppedKey
		wantAdded     []crypto.KeyID
		wantUnretired []crypto.KeyID
	}{
		{
			name:        "after rotate and retire the active key replaces the retired one, which joins the retired list",
			cluster:     repoconfig.Cluster{Recipients: []string{key("testdata/keys/other.pub")}},
			wantRetired: []string{"1781a639514741f0"},
			wantWas:     []droppedKey{{id: "1781a639514741f0", state: keys.Retired}},
			wantAdded:   []crypto.KeyID{"1781a639514741f0"},
		},
		{
			name:        "after a rotation alone the old key is no longer sealed to, and not retired",
			cluster:     repoconfig.Cluster{Recipients: []string{key("testdata/keys/old.pub")}, Retired: []string{"1781a639514741f0"}},
			wantRetired: []string{"1781a639514741f0"},
			wantWas:     []droppedKey{{id: "441d5081879ea203", state: keys.Old}},
		},
		{
			name:        "an up-to-date cluster keeps its lists as written",
			cluster:     repoconfig.Cluster{Recipients: []string{key("testdata/keys/cluster.pub")}, Retired: []string{key("testdata/keys/other.pub")}},
			wantRetired: []string{key("testdata/keys/other.pub")},
		},
		{
			name:          "a retired entry the cluster publishes again leaves the list",
			cluster:       repoconfig.Cluster{Recipients: []string{key("testdata/keys/cluster.pub")}, Retired: []string{"441d5081879ea203", "1781a639514741f0"}},
			wantRetired:   []string{"1781a639514741f0"},
			wantUnretired: []crypto.KeyID{"441d5081879ea203"},
		},
		{
			name:        "a retired entry the cluster never heard of stays retired",
			cluster:     repoconfig.Cluster{Recipients: []string{key("testdata/keys/cluster.pub")}, Retired: []string{"00000000000000aa"}},
			wantRetired: []string{"00000000000000aa", "1781a639514741f0"},
			wantAdded:   []crypto.KeyID{"1781a639514741f0"},
		},
		{
			name:        "a recipient the cluster does not publish is dropped and said",
			cluster:     repoconfig.Cluster{Recipients: []string{key("testdata/keys/cluster.pub"), key("testdata/keys/classic.pub")}, Retired: []string{"1781a639514741f0"}},
			wantRetired: []string{"1781a639514741f0"},
			wantWas:     []droppedKey{{id: "d00f34c49c448ae7"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planRefresh(tt.cluster, published)
			if len(p.keys.Recipients) != 1 || p.keys.Recipients[0] != active || p.active != "ad95a07f800fcc69" {
				t.Errorf("recipients = %+v, want the active key alone", p.keys.Recipients)
			}
			if got := entryValues(p.keys.Retired); !slices.Equal(got, tt.wantRetired) {
				t.Errorf("retired = %v, want %v", got, tt.wantRetired)
			}
			if !slices.Equal(p.was, tt.wantWas) || !slices.Equal(p.retired, tt.wantAdded) || !slices.Equal(p.unretired, tt.wantUnretired) {
				t.Errorf("was %v, added %v, unretired %v; want %v, %v, %v", p.was, p.retired, p.unretired, tt.wantWas, tt.wantAdded, tt.wantUnretired)
			}
		})
	}
}

// TestKeysRefresh runs keys refresh against a controller that rotated to
// cluster.key and retired other.key (issue 11, item 3).
func TestKeysRefresh(t *testing.T) {
	url := fakeController(t)
	dir := t.TempDir()
	config := filepath.Join(dir, ".gitseal.yaml")
	stale := "# Our keys.\nclusters:\n  - name: staging\n    recipients: [" + lastLine(t, "testdata/keys/classic.pub") + "]\n" +
		"  - name: prod\n    recipients: [" + lastLine(t, "testdata/keys/other.pub") + "]   # the prod key\nrules:\n  - clusters: [prod]\n"
	write := func() {
		t.Helper()
		if err := os.WriteFile(config, []byte(stale), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	write()

	_, stderr, code := run(t, "", "keys", "refresh", "--config", config, "--controller-url", url)
	want := "updated " + config + " from the controller via " + url + `: cluster "prod" now seals to key ad95a07f800fcc69 (was 1781a639514741f0); retired: 1781a639514741f0. Commit it.`
	if code != 0 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "next: gitseal scan finds") {
		t.Fatalf("keys refresh: exit %d, stderr:\n%s\nwant %q", code, stderr, want)
	}
	got, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	wantFile := strings.Replace(stale, "    recipients: ["+lastLine(t, "testdata/keys/other.pub")+"]   # the prod key\n",
		"    recipients: # the prod key\n      # id: ad95a07f800fcc69 created: 2026-11-01T09:00:00Z\n      - "+lastLine(t, "testdata/keys/cluster.pub")+
			"\n    retired:\n      - 1781a639514741f0\n", 1)
	if string(got) != wantFile {
		t.Errorf("refreshed file:\n%s\nwant:\n%s", got, wantFile)
	}
	if info, err := os.Stat(config); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("the file's mode changed: %v %v", info, err)
	}
	if _, stderr, code = run(t, "", "keys", "refresh", "--config", config, "--controller-url", url); code != 0 || !strings.Contains(stderr, "is up to date") {
		t.Errorf("second refresh: exit %d\n%s", code, stderr)
	}

	// A wrong cluster is refused with a clear error, and the file is left
	// as it was: bad input loses nothing.
	write()
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"a cluster that holds no key of the cluster asked needs --force", []string{"--cluster-name", "staging"},
			[]string{`cluster "staging" in ` + config + " holds no key of the cluster asked", "hint: check --context; if the cluster's keys were all replaced, pass --force"}},
		{"a cluster the file does not have is named", []string{"--cluster-name", "dev"},
			[]string{config + ` has no cluster named "dev"`, `its clusters are "staging", "prod"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, "", append([]string{"keys", "refresh", "--config", config, "--controller-url", url}, tt.args...)...)
			for _, w := range tt.want {
				if code != 2 || !strings.Contains(stderr, w) {
					t.Errorf("exit %d, stderr:\n%s\nwant %q", code, stderr, w)
				}
			}
			if got, _ := os.ReadFile(config); string(got) != stale {
				t.Errorf("a refused refresh changed the file:\n%s", got)
			}
		})
	}
	if _, stderr, code = run(t, "", "keys", "refresh", "--config", config, "--controller-url", url, "--cluster-name", "staging", "--force"); code != 0 {
		t.Errorf("--force: exit %d\n%s", code, stderr)
	}
}
