package htmlreport

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Chart is one of *LineChart, *BarChart and *ComboChart.
type Chart interface {
	// svg renders the chart width units wide; id is unique in the page.
	svg(id string, width float64) string
	// legend returns the chart's series names and colors (none for one series).
	legend() []legendItem
}

type legendItem struct{ Name, Color string }

// Point is one point of a series.
type Point struct{ X, Y float64 }

// Series is a named line of a LineChart. A NaN Y is a gap.
type Series struct {
	Name   string
	Points []Point
}

// LineChart draws series over a common numeric x axis (time in seconds, say).
type LineChart struct {
	Title string
	// XUnit and YUnit are appended to the axis labels ("s", "ms", "/s").
	XUnit, YUnit string
	Series       []Series
}

// Bar is one bar of a BarChart.
type Bar struct {
	Label string
	Value float64
	// Note is printed after the value (a unit or an explanation).
	Note string
	// Alert colors a non-zero bar as a problem.
	Alert bool
}

// BarChart draws horizontal bars, one per labelled value, on one scale.
type BarChart struct {
	Title string
	Bars  []Bar
}

// ComboChart draws one bar per category against the left axis and a line over
// the same categories against the right axis (record counts and a mean, say).
type ComboChart struct {
	Title      string
	Categories []string
	BarName    string
	Bars       []float64
	LineName   string
	LineUnit   string
	// Line has one value per category; NaN is a gap.
	Line []float64
}

// Colors of series, in order.
var palette = []string{"#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#db2777", "#65a30d", "#854d0e"}

const (
	fullWidth = 1000.0
	halfWidth = 490.0
	chartH    = 230.0
	marginL   = 70.0
	marginR   = 70.0
	marginT   = 16.0
	marginB   = 36.0
	maxPoints = 1000
	barColor  = "#2563eb"
	alertRed  = "#dc2626"
	gridColor = "#e5e7eb"
	axisColor = "#6b7280"
	textColor = "#374151"
)

// scale maps a data range onto pixels.
type scale struct {
	lo, hi     float64 // data domain
	from, to   float64 // pixels
	ticks      []float64
	tickDigits int
}

func (s scale) at(v float64) float64 {
	if s.hi == s.lo {
		return s.from
	}
	return s.from + (v-s.lo)/(s.hi-s.lo)*(s.to-s.from)
}

// niceScale returns a scale over [min, max] extended to round tick values, with
// about n ticks. zero forces the domain to include 0.
func niceScale(min, max float64, n int, zero bool, from, to float64) scale {
	if math.IsInf(min, 0) || math.IsNaN(min) || math.IsInf(max, 0) || math.IsNaN(max) {
		min, max = 0, 1
	}
	if zero {
		min, max = math.Min(min, 0), math.Max(max, 0)
	}
	if max <= min {
		if max == 0 {
			max = 1
		} else {
			min, max = min-math.Abs(min)/2, max+math.Abs(max)/2
		}
	}
	raw := (max - min) / float64(n)
	exp := math.Floor(math.Log10(raw))
	base := math.Pow(10, exp)
	var step float64
	switch f := raw / base; {
	case f <= 1:
		step = base
	case f <= 2:
		step = 2 * base
	case f <= 5:
		step = 5 * base
	default:
		step = 10 * base
	}
	lo := math.Floor(min/step) * step
	hi := math.Ceil(max/step) * step
	s := scale{lo: lo, hi: hi, from: from, to: to, tickDigits: int(math.Max(0, -math.Floor(math.Log10(step)+1e-9)))}
	for i := 0; ; i++ {
		v := lo + float64(i)*step
		if v > hi+step/1e6 {
			break
		}
		s.ticks = append(s.ticks, v)
	}
	return s
}

// formatNumber prints v compactly: 1.2k, 3.4M, 12.5.
func formatNumber(v float64, digits int) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trimZeros(strconv.FormatFloat(v/1e9, 'f', 1, 64)) + "G"
	case a >= 1e6:
		return trimZeros(strconv.FormatFloat(v/1e6, 'f', 1, 64)) + "M"
	case a >= 1e4:
		return trimZeros(strconv.FormatFloat(v/1e3, 'f', 1, 64)) + "k"
	}
	return strconv.FormatFloat(v, 'f', digits, 64)
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// FormatValue prints a figure for a label: integers without decimals, others with
// at most two.
func FormatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return trimZeros(strconv.FormatFloat(v, 'f', 2, 64))
}

// svgWriter builds an SVG document with escaped text.
type svgWriter struct {
	b     strings.Builder
	width float64
}

func (w *svgWriter) printf(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

// text writes a <text> element; s is escaped.
func (w *svgWriter) text(x, y float64, anchor, class, s string) {
	w.printf(`<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, class, html.EscapeString(s))
}

func (w *svgWriter) open(id, title string, width, height float64) {
	w.width = width
	w.printf(`<svg xmlns="http://www.w3.org/2000/svg" id="%s" class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-title">`,
		html.EscapeString(id), width, height, html.EscapeString(id))
	w.printf(`<title id="%s-title">%s</title>`, html.EscapeString(id), html.EscapeString(title))
}

func (w *svgWriter) close() string {
	w.b.WriteString(`</svg>`)
	return w.b.String()
}

func (w *svgWriter) noData(height float64) {
	w.text(w.width/2, height/2, "middle", "muted", "no data")
}

// yAxis draws horizontal grid lines and tick labels at x (left or right edge).
func (w *svgWriter) yAxis(s scale, x float64, anchor, unit string, grid bool) {
	for _, t := range s.ticks {
		y := s.at(t)
		if grid {
			w.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, marginL, y, w.width-marginR, y, gridColor)
		}
		w.text(x, y+4, anchor, "tick", formatNumber(t, s.tickDigits)+unit)
	}
}

func (c *LineChart) legend() []legendItem {
	if len(c.Series) < 2 {
		return nil
	}
	var out []legendItem
	for i, s := range c.Series {
		out = append(out, legendItem{s.Name, palette[i%len(palette)]})
	}
	return out
}

func (c *LineChart) svg(id string, width float64) string {
	var w svgWriter
	w.open(id, c.Title, width, chartH)
	minX, maxX := math.Inf(1), math.Inf(-1)
	minY, maxY := math.Inf(1), math.Inf(-1)
	n := 0
	for _, s := range c.Series {
		for _, p := range s.Points {
			if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) || math.IsNaN(p.X) || math.IsInf(p.X, 0) {
				continue
			}
			minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
			minY, maxY = math.Min(minY, p.Y), math.Max(maxY, p.Y)
			n++
		}
	}
	if n == 0 {
		w.noData(chartH)
		return w.close()
	}
	xs := niceScale(minX, maxX, int(width/100), false, marginL, width-marginR)
	ys := niceScale(minY, maxY, 5, true, chartH-marginB, marginT)
	w.yAxis(ys, marginL-8, "end", c.YUnit, true)
	base := chartH - marginB
	w.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, marginL, base, width-marginR, base, axisColor)
	for _, t := range xs.ticks {
		x := xs.at(t)
		w.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, x, base, x, base+5, axisColor)
		w.text(x, base+20, "middle", "tick", formatNumber(t, xs.tickDigits)+c.XUnit)
	}
	for i, s := range c.Series {
		color := palette[i%len(palette)]
		pts := downsample(s.Points, maxPoints)
		var path strings.Builder
		pen := false
		for _, p := range pts {
			if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, xs.at(p.X), ys.at(p.Y))
			pen = true
		}
		if path.Len() == 0 {
			continue
		}
		w.printf(`<path d="%s" fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round"><title>%s</title></path>`,
			strings.TrimSpace(path.String()), color, html.EscapeString(s.Name))
		if len(pts) == 1 {
			w.printf(`<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, xs.at(pts[0].X), ys.at(pts[0].Y), color)
		}
	}
	return w.close()
}

// downsample keeps at most max points, evenly spaced, always the last one.
func downsample(pts []Point, max int) []Point {
	if len(pts) <= max {
		return pts
	}
	step := float64(len(pts)-1) / float64(max-1)
	out := make([]Point, 0, max)
	for i := 0; i < max; i++ {
		out = append(out, pts[int(math.Round(float64(i)*step))])
	}
	return out
}

func (c *BarChart) legend() []legendItem { return nil }

func (c *BarChart) svg(id string, width float64) string {
	const rowH = 24.0
	labelW, valueW := math.Min(0.3*width, 210), math.Min(0.26*width, 190)
	height := marginT*2 + rowH*float64(max(len(c.Bars), 1))
	var w svgWriter
	w.open(id, c.Title, width, height)
	if len(c.Bars) == 0 {
		w.noData(height)
		return w.close()
	}
	maxV := 0.0
	for _, b := range c.Bars {
		maxV = math.Max(maxV, b.Value)
	}
	if maxV <= 0 {
		maxV = 1
	}
	span := math.Max(width-labelW-valueW, 40)
	for i, b := range c.Bars {
		y := marginT + float64(i)*rowH
		w.text(labelW-10, y+rowH/2+4, "end", "label", b.Label)
		width := math.Max(b.Value, 0) / maxV * span
		color := barColor
		if b.Alert && b.Value > 0 {
			color = alertRed
		}
		if width < 2 {
			width, color = 2, gridColor
		}
		w.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="3" fill="%s"><title>%s: %s</title></rect>`,
			labelW, y+4, width, rowH-8, color, html.EscapeString(b.Label), FormatValue(b.Value))
		note := FormatValue(b.Value)
		if b.Note != "" {
			note += " " + b.Note
		}
		w.text(labelW+width+8, y+rowH/2+4, "start", "value", note)
	}
	return w.close()
}

func (c *ComboChart) legend() []legendItem {
	return []legendItem{{c.BarName, barColor}, {c.LineName, palette[2]}}
}

func (c *ComboChart) svg(id string, width float64) string {
	var w svgWriter
	w.open(id, c.Title, width, chartH)
	n := len(c.Categories)
	if n == 0 {
		w.noData(chartH)
		return w.close()
	}
	maxBar := 0.0
	for _, v := range c.Bars {
		maxBar = math.Max(maxBar, v)
	}
	minL, maxL := math.Inf(1), math.Inf(-1)
	for _, v := range c.Line {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			minL, maxL = math.Min(minL, v), math.Max(maxL, v)
		}
	}
	left := niceScale(0, maxBar, 5, true, chartH-marginB, marginT)
	w.yAxis(left, marginL-8, "end", "", true)
	hasLine := !math.IsInf(minL, 0)
	var right scale
	if hasLine {
		pad := math.Max((maxL-minL)*0.1, 0.5)
		right = niceScale(minL-pad, maxL+pad, 5, false, chartH-marginB, marginT)
		w.yAxis(right, width-marginR+8, "start", c.LineUnit, false)
	}
	base := chartH - marginB
	slot := (width - marginL - marginR) / float64(n)
	labelEvery := int(math.Ceil(float64(n) / (width / 62)))
	for i, cat := range c.Categories {
		x := marginL + float64(i)*slot
		v := 0.0
		if i < len(c.Bars) {
			v = c.Bars[i]
		}
		top := left.at(v)
		w.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s %s</title></rect>`,
			x+slot*0.15, top, slot*0.7, math.Max(base-top, 0), barColor, html.EscapeString(cat), FormatValue(v), html.EscapeString(c.BarName))
		if i%labelEvery == 0 {
			w.text(x+slot/2, base+18, "middle", "tick", cat)
		}
	}
	w.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, marginL, base, width-marginR, base, axisColor)
	if hasLine {
		color := palette[2]
		var path, dots strings.Builder
		pen := false
		for i, v := range c.Line {
			if i >= n || math.IsNaN(v) || math.IsInf(v, 0) {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			x, y := marginL+(float64(i)+0.5)*slot, right.at(v)
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x, y)
			pen = true
			fmt.Fprintf(&dots, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s: %s %s%s</title></circle>`,
				x, y, color, html.EscapeString(c.Categories[i]), html.EscapeString(c.LineName), FormatValue(v), html.EscapeString(c.LineUnit))
		}
		w.printf(`<path d="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.TrimSpace(path.String()), color)
		w.b.WriteString(dots.String())
	}
	return w.close()
}
