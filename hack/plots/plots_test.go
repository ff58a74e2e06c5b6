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

package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseBench(t *testing.T) {
	tests := []struct {
		name, in  string
		bench     string
		unit      string
		want      figure
		wantNoRun bool
	}{
		{
			name:  "a result line is read under its name without the GOMAXPROCS suffix",
			in:    "BenchmarkX/hybrid-2   \t       1\t50276758564 ns/op\t         2.866 floor-s\t        35.58 gitseal-s\n",
			bench: "BenchmarkX/hybrid", unit: "gitseal-s",
			want: figure{value: 35.58, low: 35.58, high: 35.58, runs: 1},
		},
		{
			name:  "three runs give their median and range",
			in:    "BenchmarkX-2 1 9 s\nBenchmarkX-2 1 3 s\nBenchmarkX-2 1 4 s\n",
			bench: "BenchmarkX", unit: "s",
			want: figure{value: 4, low: 3, high: 9, runs: 3},
		},
		{
			name:  "two runs give the mean of the middle two",
			in:    "BenchmarkX 1 2 s\nBenchmarkX 1 4 s\n",
			bench: "BenchmarkX", unit: "s",
			want: figure{value: 3, low: 2, high: 4, runs: 2},
		},
		{
			name: "comments, logs and a benchmark's name alone are not results",
			in: "# uptime before: load average: 9.38\n--- BENCH: BenchmarkX-2\n    controller_test.go:130: floor 1.00s\n" +
				"BenchmarkX/hybrid-2     \t\nPASS\nok  \tpkg\t12.3s\n",
			bench: "BenchmarkX/hybrid", unit: "s", wantNoRun: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := results{}
			if err := parseBench(strings.NewReader(tt.in), r); err != nil {
				t.Fatal(err)
			}
			got, err := r.metric(tt.bench, tt.unit)
			if tt.wantNoRun {
				if err == nil {
					t.Fatalf("got %+v, want no result", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseFigures(t *testing.T) {
	const header = "key,value,low,high,unit,source\n"
	tests := []struct {
		name, in  string
		wantErr   string
		wantLabel string
	}{
		{name: "a single figure is its value", in: header + "a,7.96,,,s,ANCHORS.md\n", wantLabel: "7.96"},
		{name: "a median with its range shows both", in: header + "a,7.5,7.0,8.2,ms,docs\n", wantLabel: "7.5 (7–8.2)"},
		{name: "a range alone shows the range", in: header + "a,,45,48,s,ANCHORS.md\n", wantLabel: "45–48"},
		{name: "a figure without a source is refused", in: header + "a,1,,,s,\n", wantErr: "no source"},
		{name: "a median outside its range is refused", in: header + "a,9,7,8,s,docs\n", wantErr: "out of order"},
		{name: "a key given twice is refused", in: header + "a,1,,,s,x\na,2,,,s,y\n", wantErr: "twice"},
		{name: "another header is refused", in: "key,value\na,1\n", wantErr: "first line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig, err := parseFigures(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fig["a"].label(); got != tt.wantLabel {
				t.Fatalf("label %q, want %q", got, tt.wantLabel)
			}
		})
	}
}

// TestCommittedChartsAreCurrent fails when docs/img does not hold what the
// data in docs/bench draws (run make plots), and checks that drawing twice
// gives the same bytes, which is what makes the check possible.
func TestCommittedChartsAreCurrent(t *testing.T) {
	if err := run("../../docs/bench", "../../docs/img", true, false); err != nil {
		t.Fatal(err)
	}
	res, fig, err := load("../../docs/bench")
	if err != nil {
		t.Fatal(err)
	}
	first, err := render(res, fig)
	if err != nil {
		t.Fatal(err)
	}
	second, err := render(res, fig)
	if err != nil {
		t.Fatal(err)
	}
	for name, svg := range first {
		if !bytes.Equal(svg, second[name]) {
			t.Errorf("%s: two drawings of the same data differ", name)
		}
	}
}
