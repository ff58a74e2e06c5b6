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

// Command plots draws the charts of docs/benchmarks.md, as SVG files in
// docs/img, from the data in docs/bench:
//
//   - every *.txt file there is `go test -bench` output, as the benchmarks
//     print it; lines other than result lines are ignored, so a file may
//     start with comment lines saying when, where and how it was run. A
//     chart shows the median of a benchmark's runs, with their range;
//   - figures.csv holds the figures that are not benchmark output here:
//     the anchors' (ANCHORS.md) and gitseal's own recorded earlier in
//     docs/benchmarks.md, each with its source (see parseFigures).
//
// `make plots` runs it:
//
//	go -C hack/plots run . -data $PWD/docs/bench -out $PWD/docs/img
//
// With -check it writes nothing and fails if a file in -out is not what it
// would write; -tables prints each chart's figures as a Markdown table. The
// output depends only on the data: the same data gives the same bytes.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	data := flag.String("data", "docs/bench", "the directory of benchmark output (*.txt) and figures.csv")
	out := flag.String("out", "docs/img", "the directory to write the SVG files to")
	check := flag.Bool("check", false, "write nothing; fail if a file in -out differs from what would be written")
	tables := flag.Bool("tables", false, "print each chart's figures as a Markdown table")
	flag.Parse()
	if err := run(*data, *out, *check, *tables); err != nil {
		fmt.Fprintln(os.Stderr, "plots:", err)
		os.Exit(1)
	}
}

func run(data, out string, check, tables bool) error {
	res, fig, err := load(data)
	if err != nil {
		return err
	}
	files, err := render(res, fig)
	if err != nil {
		return err
	}
	var stale []error
	for _, c := range charts() {
		path := filepath.Join(out, c.name())
		if tables {
			t, err := c.table(res, fig)
			if err != nil {
				return err
			}
			fmt.Printf("%s\n\n%s\n", c.name(), t)
		}
		if check {
			have, err := os.ReadFile(filepath.Clean(path))
			if err != nil || !bytes.Equal(have, files[c.name()]) {
				stale = append(stale, fmt.Errorf("%s is not current: run make plots", path))
			}
			continue
		}
		if err := os.WriteFile(path, files[c.name()], 0o644); err != nil { //nolint:gosec // G306: a documentation file
			return err
		}
	}
	return errors.Join(stale...)
}

// render draws every chart, by file name.
func render(res results, fig recorded) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, c := range charts() {
		p, w, h, err := c.draw(res, fig)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name(), err)
		}
		if files[c.name()], err = svg(p, w, h); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name(), err)
		}
	}
	return files, nil
}

// charts are the charts of docs/benchmarks.md.
func charts() []chart {
	return []chart{
		barChart{
			file: "controller.svg", title: "1,000 five-item SealedSecrets until all are Ready, quiet machine", axis: "seconds",
			bars: []bar{
				{"Bitnami 0.36.6, client limit off", "fig:bitnami.controller.limit-off"},
				{"gitseal, hybrid keys", "fig:gitseal.controller.hybrid"},
				{"gitseal, X25519 keys", "fig:gitseal.controller.x25519"},
				{"floor: create 1,000 Secrets", "fig:gitseal.controller.floor"},
			},
		},
		groupedChart{
			file: "fair-floor.svg", title: "1,000 five-item SealedSecrets against the fair floor, same session", axis: "seconds",
			categories: []string{"hybrid keys", "X25519 keys"},
			series: []series{
				{"gitseal until all Ready", []ref{
					"bench:BenchmarkController1000x5/hybrid:gitseal-s",
					"bench:BenchmarkController1000x5/x25519:gitseal-s",
				}},
				{"fair floor: the 3,000 requests, no controller", []ref{
					"bench:BenchmarkControllerFairFloor1000x5/hybrid:fair-floor-s",
					"bench:BenchmarkControllerFairFloor1000x5/x25519:fair-floor-s",
				}},
				{"floor: create 1,000 Secrets", []ref{
					"bench:BenchmarkController1000x5/hybrid:floor-s",
					"bench:BenchmarkController1000x5/x25519:floor-s",
				}},
			},
		},
		groupedChart{
			file: "gitsync.svg", title: "A GitSync of 1,000 objects against Flux, quiet machine", axis: "seconds",
			categories: []string{"first sync", "no-change sync", "push of 10 objects"},
			series: []series{
				{"Flux 2 (1.9)", []ref{"fig:flux.first-sync", "fig:flux.no-change", "fig:flux.push"}},
				{"gitseal", []ref{"bench:BenchmarkGitSync1000:first-sync-s", "bench:BenchmarkGitSync1000:nochange-s", "bench:BenchmarkGitSync1000:push10-s"}},
			},
		},
		barChart{
			file: "seal-one.svg", title: "Seal one five-item Secret offline, whole process", axis: "milliseconds",
			bars: []bar{
				{"kubeseal 0.36.6", "fig:kubeseal.seal-one"},
				{"gitseal seal", "fig:gitseal.seal-one"},
			},
		},
		barChart{
			file: "seal-many.svg", title: "Seal 1,000 five-item Secrets offline", axis: "seconds",
			bars: []bar{
				{"kubeseal, one process per Secret", "fig:kubeseal.seal-1000-processes"},
				{"kubeseal, one multi-document run", "fig:kubeseal.seal-1000-multidoc"},
				{"gitseal seal -R, one process", "fig:gitseal.seal-1000"},
			},
		},
		barChart{
			file: "scan.svg", title: "Scan 10,000 manifests, wall time, quiet machine", axis: "seconds",
			bars: []bar{
				{"gitleaks 8.30.1 dir (finds 0 of 100)", "fig:gitleaks.scan-10000"},
				{"gitseal scan (finds 100 of 100)", "fig:gitseal.scan-10000"},
			},
		},
		barChart{
			file: "size.svg", title: "A five-item SealedSecret as YAML", axis: "KB",
			bars: []bar{
				{"Bitnami, RSA-4096", "fig:bitnami.size-5"},
				{"gitseal format 1, hybrid", "fig:gitseal.format1.hybrid.size-5"},
				{"gitseal format 1, X25519", "fig:gitseal.format1.x25519.size-5"},
			},
		},
		scaleChart{
			file: "scale-controller.svg", title: "Five-item SealedSecrets until all are Ready", axis: "seconds",
			sizes: []int{100, 1000, 10000},
			lines: []line{
				{"gitseal, hybrid keys", "BenchmarkControllerScale/hybrid/%d", "gitseal-s"},
				{"gitseal, X25519 keys", "BenchmarkControllerScale/x25519/%d", "gitseal-s"},
				{"floor: create the Secrets", "BenchmarkControllerScale/hybrid/%d", "floor-s"},
			},
		},
		scaleChart{
			file: "scale-gitsync.svg", title: "One GitSync of n ConfigMaps", axis: "seconds",
			sizes: []int{100, 1000, 10000},
			lines: []line{
				{"first sync", "BenchmarkGitSyncScale/%d", "first-sync-s"},
				{"floor: create the ConfigMaps", "BenchmarkGitSyncScale/%d", "floor-s"},
				{"push of 10 changed objects", "BenchmarkGitSyncScale/%d", "push10-s"},
				{"no-change sync", "BenchmarkGitSyncScale/%d", "nochange-s"},
			},
		},
	}
}
