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

// Command image writes a container image as an OCI image-layout tarball
// without Docker or a registry: `make image` builds the controller image
// with it, and hack/cluster the test cluster's pause image.
//
// The image is built from scratch. With -base static its first layer holds
// what distroless/static-debian12:nonroot (the Dockerfile's base) provides
// that a static Go binary can use: /etc/passwd and /etc/group with root,
// nobody and nonroot (65532), the CA bundle given by -ca-certs, /etc/nsswitch.conf,
// /tmp (1777) and the nonroot home directory. It leaves out tzdata, the
// Debian package database and license files. The second layer holds the
// files named as DEST=SRC arguments, owned by root, mode 0755.
//
// Every timestamp is fixed, so the same inputs give the same digest. The
// manifest digest is printed on stdout; the tarball names the image, as
// -ref and by digest, in the annotations that `ctr images import` reads.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is every file's and the image's timestamp: 1980-01-01, the earliest
// that zip-based tools accept, as ko uses.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// options are the command line.
type options struct {
	out        string
	ref        string
	base       string
	caCerts    string
	user       string
	entrypoint string
	workdir    string
	labels     []string
	files      []string // DEST=SRC
}

func main() {
	var o options
	flags := flag.NewFlagSet("image", flag.ExitOnError)
	flags.StringVar(&o.out, "o", "", "write the OCI image-layout tarball here (required)")
	flags.StringVar(&o.ref, "ref", "", "the image's name, e.g. ghcr.io/gitseal/gitseal:v1 (required)")
	flags.StringVar(&o.base, "base", "scratch", "scratch (nothing) or static (what distroless/static:nonroot provides to a static binary)")
	flags.StringVar(&o.caCerts, "ca-certs", "", "with -base static: the CA bundle to install as /etc/ssl/certs/ca-certificates.crt (required)")
	flags.StringVar(&o.user, "user", "", "the user the image runs as, e.g. 65532:65532")
	flags.StringVar(&o.entrypoint, "entrypoint", "", "the image's entrypoint (required)")
	flags.StringVar(&o.workdir, "workdir", "", "the working directory")
	flags.Func("label", "a label KEY=VALUE of the image config (repeatable)", func(s string) error {
		o.labels = append(o.labels, s)
		return nil
	})
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: image -o OUT.tar -ref NAME:TAG -entrypoint PATH [flags] DEST=SRC...")
		flags.PrintDefaults()
	}
	_ = flags.Parse(os.Args[1:])
	o.files = flags.Args()
	digest, err := o.run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	fmt.Println(digest)
}

func (o *options) run() (string, error) {
	if o.out == "" || o.ref == "" || o.entrypoint == "" {
		return "", errors.New("-o, -ref and -entrypoint are required")
	}
	ref, err := name.ParseReference(o.ref, name.StrictValidation)
	if err != nil {
		return "", fmt.Errorf("parse -ref: %w", err)
	}
	var layers []mutate.Addendum
	addLayer := func(l v1.Layer, createdBy string) {
		layers = append(layers, mutate.Addendum{
			Layer: l, MediaType: types.OCILayer,
			History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: createdBy},
		})
	}
	switch o.base {
	case "scratch":
	case "static":
		if o.caCerts == "" {
			return "", errors.New("-base static needs -ca-certs")
		}
		base, err := staticBase(o.caCerts)
		if err != nil {
			return "", err
		}
		addLayer(base, "hack/image: static base (users, groups, CA certificates, /tmp)")
	default:
		return "", fmt.Errorf("unknown -base %q: want scratch or static", o.base)
	}
	files, err := fileLayer(o.files)
	if err != nil {
		return "", err
	}
	dests := make([]string, len(o.files))
	for i, f := range o.files {
		dests[i], _, _ = strings.Cut(f, "=")
	}
	// Only the destinations: the digest must not depend on where the
	// checkout is.
	addLayer(files, "hack/image: "+strings.Join(dests, " "))

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if img, err = mutate.Append(img, layers...); err != nil {
		return "", fmt.Errorf("add layers: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config.Entrypoint = []string{o.entrypoint}
	cfg.Config.User = o.user
	cfg.Config.WorkingDir = o.workdir
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if o.base == "static" {
		cfg.Config.Env = append(cfg.Config.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")
	}
	for _, l := range o.labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return "", fmt.Errorf("-label %q: want KEY=VALUE", l)
		}
		if cfg.Config.Labels == nil {
			cfg.Config.Labels = map[string]string{}
		}
		cfg.Config.Labels[k] = v
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return "", err
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: epoch}); err != nil {
		return "", err
	}
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}
	if err := writeLayoutTar(o.out, ref, img); err != nil {
		return "", err
	}
	return digest.String(), nil
}

// staticBase is the layer that stands in for distroless/static:nonroot.
func staticBase(caCerts string) (v1.Layer, error) {
	ca, err := os.ReadFile(caCerts) //nolint:gosec // G304: the caller names the bundle to install.
	if err != nil {
		return nil, fmt.Errorf("read CA bundle: %w", err)
	}
	entries := []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/passwd", mode: 0o644, data: []byte(
			"root:x:0:0:root:/root:/sbin/nologin\n" +
				"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
				"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "etc/group", mode: 0o644, data: []byte(
			"root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n")},
		{name: "etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: ca},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, uid: 65532, gid: 65532},
		{name: "root/", mode: 0o700},
		{name: "tmp/", mode: 0o1777},
	}
	return layerOf(entries)
}

// fileLayer holds each DEST=SRC file at DEST, with the directories above it.
func fileLayer(specs []string) (v1.Layer, error) {
	dirs := map[string]bool{}
	var entries []entry
	for _, spec := range specs {
		dest, src, ok := strings.Cut(spec, "=")
		if !ok || !path.IsAbs(dest) || strings.HasSuffix(dest, "/") {
			return nil, fmt.Errorf("file %q: want /ABSOLUTE/DEST=SRC", spec)
		}
		data, err := os.ReadFile(src) //nolint:gosec // G304: the caller names the files to install.
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", filepath.Base(src), err)
		}
		dest = strings.TrimPrefix(path.Clean(dest), "/")
		for d := path.Dir(dest); d != "."; d = path.Dir(d) {
			dirs[d+"/"] = true
		}
		entries = append(entries, entry{name: dest, mode: 0o755, data: data})
	}
	for d := range dirs {
		entries = append(entries, entry{name: d, mode: 0o755})
	}
	return layerOf(entries)
}

// entry is one file or directory (name ends in "/") of a layer.
type entry struct {
	name     string
	mode     int64
	uid, gid int
	data     []byte
}

// layerOf writes entries, sorted by name so that parents come first, into a
// gzipped OCI layer.
func layerOf(entries []entry) (v1.Layer, error) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			ModTime: epoch, Format: tar.FormatPAX,
		}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// writeLayoutTar writes img as an OCI image layout into a tarball at out.
// The index entry carries the full name for containerd
// (io.containerd.image.name) and the tag for OCI tools
// (org.opencontainers.image.ref.name).
func writeLayoutTar(out string, ref name.Reference, img v1.Image) error {
	dir, err := os.MkdirTemp("", "image-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	annotations := map[string]string{"io.containerd.image.name": ref.Name()}
	if tag, ok := ref.(name.Tag); ok {
		annotations["org.opencontainers.image.ref.name"] = tag.TagStr()
	}
	if err := p.AppendImage(img, layout.WithAnnotations(annotations)); err != nil {
		return fmt.Errorf("write image layout: %w", err)
	}
	// A second name, by digest, as a pull from a registry leaves behind:
	// the kubelet finds an image pinned by digest only under that name.
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	byDigest := ref.Context().Digest(digest.String()).Name()
	if byDigest != ref.Name() {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"io.containerd.image.name": byDigest})); err != nil {
			return fmt.Errorf("write image layout: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil { //nolint:gosec // G301: build output, like bin/.
		return err
	}
	f, err := os.Create(out) //nolint:gosec // G304: the caller names the output.
	if err != nil {
		return err
	}
	if err := tarDir(f, dir); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	return f.Close()
}

// tarDir writes the regular files and directories under dir into w, in
// lexical order, with fixed timestamps and owners.
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: epoch, Format: tar.FormatPAX}
		if d.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
			return tw.WriteHeader(h)
		}
		data, err := os.ReadFile(p) //nolint:gosec // G304: a file of the layout this command just wrote.
		if err != nil {
			return err
		}
		h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, int64(len(data))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
