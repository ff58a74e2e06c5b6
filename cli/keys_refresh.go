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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	"github.com/spf13/cobra"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/repoconfig"
)

// KeysRefreshOptions are the options of `gitseal keys refresh`.
type KeysRefreshOptions struct {
	IOStreams
	cluster *ClusterOptions

	// Config is the .gitseal.yaml to update; empty means search for one
	// from the working directory up to the repository root.
	Config string
	// ClusterName names the cluster in the file to refresh; empty means
	// the one that holds a key of the cluster asked.
	ClusterName string
	// Force refreshes the named cluster even if it holds no key of the
	// cluster asked.
	Force bool
}

// NewCmdKeysRefresh returns `gitseal keys refresh`.
func NewCmdKeysRefresh(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &KeysRefreshOptions{IOStreams: streams, cluster: cluster}
	cmd := &cobra.Command{
		Use:   "refresh",
		Short: "Update a cluster's keys in .gitseal.yaml from the cluster",
		Long: `Fetch the cluster's keys and rewrite one cluster of .gitseal.yaml with
them: its recipients become the cluster's active key, and the keys the
cluster retired are added to its retired list. Every other byte of the
file stays as it was: the rules, the other clusters, comments and blank
lines. Run it after gitseal keys rotate or gitseal keys retire, and commit
the file: offline seals then go to the new key, seal refuses the retired
ones, and gitseal scan reports what is still sealed to them.

The cluster in the file is the one that holds a key of the cluster asked
(the kube context's), or --cluster-name. The file is found from the working
directory up to the repository root, or named with --config. It is
replaced in one step (a temporary file and a rename).`,
		Example: `  gitseal keys rotate && gitseal keys retire 3f2a9c1b2d3e4f5a
  gitseal keys refresh
  gitseal --context prod-eu keys refresh --cluster-name prod-eu`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.Config, "config", "", "the .gitseal.yaml `FILE` to update (default: found from the working directory up to the repository root)")
	cmd.Flags().StringVar(&o.ClusterName, "cluster-name", "", "the cluster in the file to refresh (default: the one that holds a key of the cluster asked)")
	cmd.Flags().BoolVar(&o.Force, "force", false, "refresh --cluster-name even if it holds no key of the cluster asked")
	return cmd
}

// Run fetches the keys and updates the file.
func (o *KeysRefreshOptions) Run(ctx context.Context) error {
	file := o.Config
	if file == "" {
		found, err := repoconfig.Find(".")
		if errors.Is(err, fs.ErrNotExist) {
			return withHint(fmt.Errorf("no %s here or in a parent directory up to the repository root", repoconfig.FileName),
				"create one with gitseal init, or name it with --config")
		}
		if err != nil {
			return err
		}
		file = found
	}
	data, err := os.ReadFile(file) //nolint:gosec // G304: the user's own configuration.
	if err != nil {
		return err
	}
	cfg, err := repoconfig.Parse(data)
	if err != nil {
		return withHint(fmt.Errorf("%s: %w", file, err), "fix the file first")
	}
	published, source, err := o.cluster.fetchPublicKeys(ctx, o.ErrOut)
	if err != nil {
		return err
	}
	cl, err := o.pickCluster(cfg, published, file)
	if err != nil {
		return err
	}
	plan := planRefresh(*cl, published)
	out, err := repoconfig.SetClusterKeys(data, cl.Name, plan.keys)
	if errors.Is(err, repoconfig.ErrNotEditable) {
		return withHint(fmt.Errorf("%s: %w", file, err), fmt.Sprintf("edit cluster %q by hand: recipients [%s], retired %s",
			cl.Name, activeKey(published).Recipient, retiredList(plan.keys.Retired)))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if bytes.Equal(out, data) {
		fmt.Fprintf(o.ErrOut, "%s is up to date: cluster %q seals to key %s (from %s)\n", file, cl.Name, plan.active, source)
		return nil
	}
	if err := manifest.WriteFileAtomic(file, out, manifest.ModeOf(file, 0o644)); err != nil {
		return err
	}
	o.report(file, cl.Name, source, plan)
	return nil
}

// pickCluster returns the cluster of the file to refresh: --cluster-name,
// which must hold a key of the cluster asked unless --force, or else the
// one cluster that does.
func (o *KeysRefreshOptions) pickCluster(cfg *repoconfig.Config, published []publishedKey, file string) (*repoconfig.Cluster, error) {
	live := make([]crypto.KeyID, len(published))
	for i, k := range published {
		live[i] = k.ID
	}
	shares := func(cl *repoconfig.Cluster) bool {
		return slices.ContainsFunc(cl.KeyIDs(), func(id crypto.KeyID) bool { return slices.Contains(live, id) })
	}
	asked := "the cluster asked"
	if name, err := o.cluster.ContextName(); err == nil {
		asked = "the cluster of context " + name
	}
	var names []string
	for _, cl := range cfg.Clusters {
		names = append(names, cl.Name)
	}
	if o.ClusterName != "" {
		i := slices.IndexFunc(cfg.Clusters, func(cl repoconfig.Cluster) bool { return cl.Name == o.ClusterName })
		if i < 0 {
			return nil, withHint(fmt.Errorf("%s has no cluster named %q", file, o.ClusterName),
				fmt.Sprintf("its clusters are %s; add one by hand, or write a new file with gitseal init", quoteList(names)))
		}
		if cl := &cfg.Clusters[i]; !shares(cl) && !o.Force {
			return nil, withHint(fmt.Errorf("cluster %q in %s holds no key of %s: is it the same cluster?", cl.Name, file, asked),
				"check --context; if the cluster's keys were all replaced, pass --force")
		}
		return &cfg.Clusters[i], nil
	}
	var match []*repoconfig.Cluster
	for i := range cfg.Clusters {
		if shares(&cfg.Clusters[i]) {
			match = append(match, &cfg.Clusters[i])
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return nil, withHint(fmt.Errorf("no cluster in %s holds a key of %s", file, asked),
			fmt.Sprintf("check --context, or name the cluster to refresh with --cluster-name and --force (the file has %s)", quoteList(names)))
	}
	var both []string
	for _, cl := range match {
		both = append(both, cl.Name)
	}
	return nil, withHint(fmt.Errorf("clusters %s in %s all hold keys of %s", quoteList(both), file, asked), "name the one to refresh with --cluster-name")
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func retiredList(es []repoconfig.Entry) string {
	return "[" + strings.Join(entryValues(es), ", ") + "]"
}

func entryValues(es []repoconfig.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Value
	}
	return out
}

// refreshPlan is what keys refresh writes into a cluster, and what it
// says about it.
type refreshPlan struct {
	keys   repoconfig.ClusterKeys
	active crypto.KeyID
	// was are the recipients the cluster no longer seals to, with their
	// state in the cluster: old, retired, or "" for a key it does not
	// publish at all.
	was []droppedKey
	// retired are the key IDs added to the retired list, unretired those
	// taken off it because the cluster publishes them again.
	retired, unretired []crypto.KeyID
}

type droppedKey struct {
	id    crypto.KeyID
	state keys.State
}

// planRefresh decides a cluster's new keys from what the cluster
// publishes: its active key is the one recipient, with its ID and creation
// time in a comment; its retired list keeps its entries, except keys the
// cluster publishes again (it is the truth about its own keys), and gains
// the keys the cluster retired. Entries for keys the cluster never heard
// of stay retired: that is the safe side.
func planRefresh(cl repoconfig.Cluster, published []publishedKey) refreshPlan {
	active := activeKey(published)
	p := refreshPlan{active: active.ID}
	p.keys.Recipients = []repoconfig.Entry{{
		Value:   active.Recipient,
		Comment: fmt.Sprintf("id: %s created: %s", active.ID, active.Created.UTC().Format(time.RFC3339)),
	}}
	state := map[crypto.KeyID]keys.State{}
	for _, k := range published {
		state[k.ID] = k.State
	}
	for _, r := range cl.Recipients {
		rc, err := crypto.ParseRecipient(r)
		if err != nil || rc.ID() == active.ID || slices.ContainsFunc(p.was, func(d droppedKey) bool { return d.id == rc.ID() }) {
			continue
		}
		p.was = append(p.was, droppedKey{id: rc.ID(), state: state[rc.ID()]})
	}
	var listed []crypto.KeyID
	for _, r := range cl.Retired {
		id, err := repoconfig.RetiredID(r)
		if err == nil && (state[id] == keys.Active || state[id] == keys.Old) {
			p.unretired = append(p.unretired, id)
			continue
		}
		p.keys.Retired = append(p.keys.Retired, repoconfig.Entry{Value: r})
		listed = append(listed, id)
	}
	for _, id := range retiredKeyIDs(published) {
		if !slices.Contains(listed, id) {
			p.keys.Retired = append(p.keys.Retired, repoconfig.Entry{Value: string(id)})
			p.retired = append(p.retired, id)
			listed = append(listed, id)
		}
	}
	return p
}

// report says what changed in the file and what to do next.
func (o *KeysRefreshOptions) report(file, cluster string, source keySource, p refreshPlan) {
	msg := fmt.Sprintf("updated %s from %s: cluster %q now seals to key %s", file, source, cluster, p.active)
	var was []string
	for _, d := range p.was {
		was = append(was, string(d.id))
	}
	if len(was) > 0 {
		msg += " (was " + strings.Join(was, ", ") + ")"
	}
	if len(p.retired) > 0 {
		msg += "; retired: " + joinIDs(p.retired)
	}
	fmt.Fprintln(o.ErrOut, msg+". Commit it.")
	if len(p.unretired) > 0 {
		fmt.Fprintf(o.ErrOut, "note: took %s off the retired list: the cluster publishes it again\n", joinIDs(p.unretired))
	}
	for _, d := range p.was {
		switch d.state {
		case keys.Old:
			fmt.Fprintf(o.ErrOut, "note: key %s still opens values, but is no longer sealed to: gitseal scan reports values sealed only to it (GS005) until you re-seal them with gitseal reseal\n", d.id)
		case "":
			fmt.Fprintf(o.ErrOut, "note: dropped key %s: the cluster does not publish it (retired, or not one of its keys); an extra key, e.g. break-glass, belongs under a rule's recipients\n", d.id)
		}
	}
	if len(p.retired) > 0 {
		fmt.Fprintln(o.ErrOut, "next: gitseal scan finds what is still sealed to retired keys; move it with gitseal reseal --only-retired")
	}
}

func joinIDs(ids []crypto.KeyID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return strings.Join(s, ", ")
}
