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
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// A ref names a figure: "bench:BenchmarkName/sub:unit" for the median of a
// benchmark's metric, "fig:key" for a line of figures.csv.
type ref string

func (r ref) resolve(res results, fig recorded) (figure, error) {
	kind, rest, _ := strings.Cut(string(r), ":")
	switch kind {
	case "bench":
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			return figure{}, fmt.Errorf("%s: no unit", r)
		}
		return res.metric(rest[:i], rest[i+1:])
	case "fig":
		f, ok := fig[rest]
		if !ok {
			return figure{}, fmt.Errorf("%s: not in figures.csv", r)
		}
		return f, nil
	}
	return figure{}, fmt.Errorf("%s: names neither a benchmark (bench:) nor a figure (fig:)", r)
}

// source says where a figure comes from, for the tables.
func (r ref) source(f figure) string {
	if f.runs > 0 {
		name, _, _ := strings.Cut(strings.TrimPrefix(string(r), "bench:"), ":")
		if f.runs == 1 {
			return fmt.Sprintf("`%s`, one run", name)
		}
		return fmt.Sprintf("`%s`, median of %d runs", name, f.runs)
	}
	return f.source
}

// A bar is one bar of a barChart.
type bar struct {
	label string
	ref   ref
}

// A barChart compares single figures, one horizontal bar each, the first
// on top.
type barChart struct {
	file, title, axis string
	bars              []bar
}

// A groupedChart compares series (gitseal and an anchor) over categories
// (the measurements), one vertical bar per series in each category.
type groupedChart struct {
	file, title, axis string
	categories        []string
	series            []series
}

type series struct {
	name string
	refs []ref // one per category
}

// A scaleChart draws figures against the number of objects, on log-log
// axes. Each series' bench names a benchmark with %d for the size.
type scaleChart struct {
	file, title, axis string
	sizes             []int
	lines             []line
}

type line struct {
	name, bench, unit string
}

// A chart is drawn into an SVG file of docs/img, and listed as a table.
type chart interface {
	name() string
	draw(res results, fig recorded) (*plot.Plot, vg.Length, vg.Length, error)
	table(res results, fig recorded) (string, error)
}

func (c barChart) name() string     { return c.file }
func (c groupedChart) name() string { return c.file }
func (c scaleChart) name() string   { return c.file }

// svg renders p as an SVG document of w × h. Fonts are named, not
// embedded, so the output depends only on the figures.
func svg(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	wt, err := p.WriterTo(w, h, "svg")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// shifted draws a plotter moved right by dx, as a bar chart's Offset
// moves its bars.
type shifted struct {
	plot.Plotter
	dx vg.Length
}

func (s shifted) Plot(c draw.Canvas, p *plot.Plot) {
	c.Push()
	defer c.Pop()
	c.Translate(vg.Point{X: s.dx})
	s.Plotter.Plot(c, p)
}

// plainTicks are plot's default ticks, labelled without trailing zeros.
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = num(ticks[i].Value)
		}
	}
	return ticks
}

// rangeBars is a set of figures drawn as error bars over their range.
type rangeBars struct {
	plotter.XYs
	errs plotter.Errors
}

func (r rangeBars) XError(i int) (float64, float64) { return r.errs[i].Low, r.errs[i].High }
func (r rangeBars) YError(i int) (float64, float64) { return r.errs[i].Low, r.errs[i].High }

func (c barChart) draw(res results, fig recorded) (*plot.Plot, vg.Length, vg.Length, error) {
	p := plot.New()
	p.Title.Text = c.title
	p.X.Label.Text = c.axis
	p.X.Min = 0
	p.X.Tick.Marker = plainTicks{}
	n := len(c.bars)
	values := make(plotter.Values, n)
	names := make([]string, n)
	var ranges rangeBars
	var labels plotter.XYLabels
	top := 0.0
	for i, b := range c.bars {
		f, err := b.ref.resolve(res, fig)
		if err != nil {
			return nil, 0, 0, err
		}
		y := float64(n - 1 - i) // the first bar on top
		values[n-1-i], names[n-1-i] = f.value, b.label
		if f.low != f.high {
			ranges.XYs = append(ranges.XYs, plotter.XY{X: f.value, Y: y})
			ranges.errs = append(ranges.errs, struct{ Low, High float64 }{f.value - f.low, f.high - f.value})
		}
		labels.XYs = append(labels.XYs, plotter.XY{X: f.high, Y: y})
		labels.Labels = append(labels.Labels, " "+f.label())
		top = math.Max(top, f.high)
	}
	bars, err := plotter.NewBarChart(values, vg.Points(14))
	if err != nil {
		return nil, 0, 0, err
	}
	bars.Horizontal = true
	bars.Color = plotutil.Color(0)
	bars.LineStyle.Width = 0
	p.Add(bars)
	if len(ranges.XYs) > 0 {
		eb, err := plotter.NewXErrorBars(ranges)
		if err != nil {
			return nil, 0, 0, err
		}
		p.Add(eb)
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, 0, 0, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].YAlign = -0.5
	}
	p.Add(l)
	p.NominalY(names...)
	p.X.Max = top * 1.45 // room for the labels
	return p, 6 * vg.Inch, vg.Length(0.9+0.32*float64(n)) * vg.Inch, nil
}

func (c barChart) table(res results, fig recorded) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | %s | source |\n| --- | --- | --- |\n", strings.TrimSuffix(c.title, "."), c.axis)
	for _, bar := range c.bars {
		f, err := bar.ref.resolve(res, fig)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", bar.label, f.label(), bar.ref.source(f))
	}
	return b.String(), nil
}

func (c groupedChart) draw(res results, fig recorded) (*plot.Plot, vg.Length, vg.Length, error) {
	p := plot.New()
	p.Title.Text = c.title
	p.Y.Label.Text = c.axis
	p.Y.Min = 0
	p.Y.Tick.Marker = plainTicks{}
	p.Legend.Top = true
	const width = 28
	top := 0.0
	for s, ser := range c.series {
		values := make(plotter.Values, len(c.categories))
		var ranges rangeBars
		var labels plotter.XYLabels
		offset := vg.Points(width) * (vg.Length(s) - vg.Length(len(c.series)-1)/2)
		for i, r := range ser.refs {
			f, err := r.resolve(res, fig)
			if err != nil {
				return nil, 0, 0, err
			}
			values[i] = f.value
			if f.low != f.high {
				ranges.XYs = append(ranges.XYs, plotter.XY{X: float64(i), Y: f.value})
				ranges.errs = append(ranges.errs, struct{ Low, High float64 }{f.value - f.low, f.high - f.value})
			}
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(i), Y: f.high})
			short := num(f.value) // the whisker shows a median's range
			if f.rangeOnly {
				short = f.label()
			}
			labels.Labels = append(labels.Labels, short)
			top = math.Max(top, f.high)
		}
		bars, err := plotter.NewBarChart(values, vg.Points(width))
		if err != nil {
			return nil, 0, 0, err
		}
		bars.Color, bars.Offset, bars.LineStyle.Width = plotutil.Color(s), offset, 0
		p.Add(bars)
		p.Legend.Add(ser.name, bars)
		if len(ranges.XYs) > 0 {
			eb, err := plotter.NewYErrorBars(ranges)
			if err != nil {
				return nil, 0, 0, err
			}
			p.Add(shifted{eb, offset}) // keep the error bars on their bar
		}
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, 0, 0, err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign = -0.5
		}
		l.Offset = vg.Point{X: offset, Y: vg.Points(2)}
		p.Add(l)
	}
	p.NominalX(c.categories...)
	p.Y.Max = top * 1.35 // room for the labels and the legend
	return p, 6 * vg.Inch, 3.2 * vg.Inch, nil
}

func (c groupedChart) table(res results, fig recorded) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s |", strings.TrimSuffix(c.title, "."))
	for _, s := range c.series {
		fmt.Fprintf(&b, " %s (%s) |", s.name, c.axis)
	}
	b.WriteString(" sources |\n|" + strings.Repeat(" --- |", len(c.series)+2) + "\n")
	for i, cat := range c.categories {
		fmt.Fprintf(&b, "| %s |", cat)
		var sources []string
		for _, s := range c.series {
			f, err := s.refs[i].resolve(res, fig)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, " %s |", f.label())
			sources = append(sources, s.name+": "+s.refs[i].source(f))
		}
		fmt.Fprintf(&b, " %s |\n", strings.Join(sources, "; "))
	}
	return b.String(), nil
}

func (c scaleChart) draw(res results, _ recorded) (*plot.Plot, vg.Length, vg.Length, error) {
	p := plot.New()
	p.Title.Text = c.title
	p.X.Label.Text = "objects"
	p.Y.Label.Text = c.axis
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker = plot.ConstantTicks(sizeTicks(c.sizes))
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	low, high := math.Inf(1), math.Inf(-1)
	for i, ln := range c.lines {
		xys := make(plotter.XYs, len(c.sizes))
		for j, n := range c.sizes {
			f, err := res.metric(fmt.Sprintf(ln.bench, n), ln.unit)
			if err != nil {
				return nil, 0, 0, err
			}
			xys[j] = plotter.XY{X: float64(n), Y: f.value}
			low, high = math.Min(low, f.value), math.Max(high, f.value)
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, 0, 0, err
		}
		l.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
		l.Dashes = plotutil.Dashes(i)
		p.Add(l, pts)
		p.Legend.Add(ln.name, l, pts)
	}
	// Whole powers of ten around the figures, with room above for the
	// legend.
	p.Y.Min = math.Pow(10, math.Floor(math.Log10(low))) * 0.99 // keeps the lowest tick in range
	p.Y.Max = math.Pow(10, math.Ceil(math.Log10(high*8)))
	p.X.Min, p.X.Max = float64(c.sizes[0])/1.5, float64(c.sizes[len(c.sizes)-1])*1.5
	return p, 6 * vg.Inch, 3.6 * vg.Inch, nil
}

func sizeTicks(sizes []int) []plot.Tick {
	var ticks []plot.Tick
	for _, n := range sizes {
		ticks = append(ticks, plot.Tick{Value: float64(n), Label: groupThousands(n)})
	}
	return ticks
}

// groupThousands writes n with commas: 10,000.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (c scaleChart) table(res results, _ recorded) (string, error) {
	var b strings.Builder
	b.WriteString("| " + strings.TrimSuffix(c.title, ".") + " |")
	for _, n := range c.sizes {
		fmt.Fprintf(&b, " %s |", groupThousands(n))
	}
	b.WriteString("\n|" + strings.Repeat(" --- |", len(c.sizes)+1) + "\n")
	for _, ln := range c.lines {
		fmt.Fprintf(&b, "| %s (%s) |", ln.name, c.axis)
		for _, n := range c.sizes {
			f, err := res.metric(fmt.Sprintf(ln.bench, n), ln.unit)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, " %s |", f.label())
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}
