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
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A figure is one number a chart shows: the median of a benchmark's runs,
// or a figure recorded in figures.csv, with the range it comes from.
type figure struct {
	value, low, high float64
	runs             int    // benchmark runs; 0 for a recorded figure
	source           string // where a recorded figure comes from
	rangeOnly        bool   // a recorded range with no median: value is its middle
}

// label is the figure as a chart or table writes it: "9.5", "9.5
// (7.8–13.9)" for a median and its range, or "3.1–6.3" for a range alone.
func (f figure) label() string {
	if f.low == f.high {
		return num(f.value)
	}
	r := num(f.low) + "–" + num(f.high)
	if f.rangeOnly {
		return r
	}
	return num(f.value) + " (" + r + ")"
}

// num writes v with three significant digits at most: 110, 35.6, 0.741.
func num(v float64) string {
	rounded, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	return strconv.FormatFloat(rounded, 'f', -1, 64)
}

// results are benchmark metrics by benchmark name (without the -GOMAXPROCS
// suffix) and unit, one value per run.
type results map[string]map[string][]float64

// procsSuffix is the -N that go test appends to a benchmark's name when
// GOMAXPROCS is above 1.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBench adds the result lines of `go test -bench` output to r: lines
// "BenchmarkName-N  iterations  value unit  value unit ...". Other lines
// (logs, PASS, comments) are skipped.
func parseBench(in io.Reader, r results) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(fields[0], "")
		if r[name] == nil {
			r[name] = map[string][]float64{}
		}
		for i := 2; i < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return fmt.Errorf("benchmark line %q: %w", sc.Text(), err)
			}
			r[name][fields[i+1]] = append(r[name][fields[i+1]], v)
		}
	}
	return sc.Err()
}

// metric returns the median of a benchmark's metric over its runs, with
// their range.
func (r results) metric(name, unit string) (figure, error) {
	vs := r[name][unit]
	if len(vs) == 0 {
		return figure{}, fmt.Errorf("no %s of %s in the benchmark output", unit, name)
	}
	s := slices.Sorted(slices.Values(vs))
	median := s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return figure{value: median, low: s[0], high: s[len(s)-1], runs: len(s)}, nil
}

// recorded are figures.csv's figures by key.
type recorded map[string]figure

// parseFigures reads figures.csv: a header line, then
// key,value,low,high,unit,source per figure. low and high are empty for a
// single figure; value is empty for a range whose source gives no median
// (the bar is drawn at its middle). The unit is documentation only.
func parseFigures(in io.Reader) (recorded, error) {
	rows, err := csv.NewReader(in).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || !slices.Equal(rows[0], []string{"key", "value", "low", "high", "unit", "source"}) {
		return nil, fmt.Errorf("figures: the first line must be key,value,low,high,unit,source")
	}
	out := recorded{}
	for _, row := range rows[1:] {
		if _, dup := out[row[0]]; dup {
			return nil, fmt.Errorf("figures: %s twice", row[0])
		}
		f := figure{source: row[5], rangeOnly: row[1] == ""}
		var err error
		if !f.rangeOnly {
			if f.value, err = strconv.ParseFloat(row[1], 64); err != nil {
				return nil, fmt.Errorf("figures: %s: %w", row[0], err)
			}
			f.low, f.high = f.value, f.value
		}
		if row[2] != "" || row[3] != "" || f.rangeOnly {
			if f.low, err = strconv.ParseFloat(row[2], 64); err != nil {
				return nil, fmt.Errorf("figures: %s low: %w", row[0], err)
			}
			if f.high, err = strconv.ParseFloat(row[3], 64); err != nil {
				return nil, fmt.Errorf("figures: %s high: %w", row[0], err)
			}
			if f.low > f.high || (!f.rangeOnly && (f.value < f.low || f.value > f.high)) {
				return nil, fmt.Errorf("figures: %s: the range %s–%s is out of order", row[0], row[2], row[3])
			}
		}
		if f.rangeOnly {
			f.value = (f.low + f.high) / 2
		}
		if row[5] == "" {
			return nil, fmt.Errorf("figures: %s has no source", row[0])
		}
		out[row[0]] = f
	}
	return out, nil
}

// load reads every *.txt in dir as benchmark output, and dir/figures.csv.
func load(dir string) (results, recorded, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, nil, err
	}
	r := results{}
	for _, name := range names {
		f, err := os.Open(filepath.Clean(name))
		if err != nil {
			return nil, nil, err
		}
		err = parseBench(f, r)
		_ = f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	f, err := os.Open(filepath.Clean(filepath.Join(dir, "figures.csv")))
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = f.Close() }()
	fig, err := parseFigures(f)
	return r, fig, err
}
