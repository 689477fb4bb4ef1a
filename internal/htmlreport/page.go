package htmlreport

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"regexp"
)

// Page is a report. The zero value renders an empty page titled "Report".
type Page struct {
	Title    string
	Subtitle string
	// Verdict is a one-line outcome shown under the title; OK colors it green,
	// otherwise red. An empty Verdict is not shown.
	Verdict string
	OK      bool
	// Figures are headline numbers shown as tiles.
	Figures  []Figure
	Sections []Section
	// Footer is a line of small print at the bottom.
	Footer string
}

// Figure is a headline number.
type Figure struct {
	Label string
	Value string
	// Alert marks a figure that shows a problem.
	Alert bool
}

// Section is a titled part of the page with an optional chart and table.
type Section struct {
	// ID is the section's HTML id (letters, digits, '-' and '_'); charts get
	// "<ID>-chart". It must be unique in the page.
	ID          string
	Title       string
	Description string
	Chart       Chart
	Table       *Table
	// Half lays the section out in half the page width, beside the next or the
	// previous Half section on wide screens.
	Half bool
}

// Table is a simple table of text cells.
type Table struct {
	Columns []string
	Rows    [][]string
	// Numeric marks the columns to right-align (by index).
	Numeric map[int]bool
}

var idPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// Write renders p to w. It returns an error for an invalid or duplicate section
// id, and what w returns.
func Write(w io.Writer, p *Page) error {
	type renderedSection struct {
		Section
		SVG    template.HTML
		Legend []legendItem
	}
	data := struct {
		*Page
		PageTitle string
		Rendered  []renderedSection
	}{Page: p, PageTitle: p.Title}
	if data.PageTitle == "" {
		data.PageTitle = "Report"
	}
	seen := map[string]bool{}
	for _, s := range p.Sections {
		if !idPattern.MatchString(s.ID) {
			return fmt.Errorf("htmlreport: section %q: id %q is not letters, digits, '-' and '_'", s.Title, s.ID)
		}
		if seen[s.ID] {
			return fmt.Errorf("htmlreport: section id %q is used twice", s.ID)
		}
		seen[s.ID] = true
		r := renderedSection{Section: s}
		if s.Chart != nil {
			// The chart's SVG is built by this package with every text escaped.
			width := fullWidth
			if s.Half {
				width = halfWidth
			}
			r.SVG = template.HTML(s.Chart.svg(s.ID+"-chart", width))
			r.Legend = s.Chart.legend()
		}
		data.Rendered = append(data.Rendered, r)
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("htmlreport: write: %w", err)
	}
	return nil
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"legendStyle": func(color string) template.CSS { return template.CSS("background:" + color) },
	"numeric":     func(t *Table, i int) bool { return t.Numeric[i] },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>{{.PageTitle}}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2937; background: #f8fafc; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 18px 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 4px; }
p.sub { color: #6b7280; margin: 0 0 12px; }
p.desc { color: #4b5563; margin: 0 0 10px; }
.verdict { display: inline-block; padding: 6px 12px; border-radius: 6px; font-weight: 600; margin: 4px 0 16px; }
.ok { background: #dcfce7; color: #166534; }
.bad { background: #fee2e2; color: #991b1b; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(100px, 1fr)); gap: 10px; margin-bottom: 16px; }
.figure { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px; }
.figure .v { font-size: 20px; font-weight: 600; }
.figure .l { color: #6b7280; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; }
.figure.alert .v { color: #dc2626; }
.sections { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
section { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px 16px; grid-column: 1 / -1; min-width: 0; }
section.half { grid-column: auto; }
@media (max-width: 800px) { section.half { grid-column: 1 / -1; } }
figure { margin: 0; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #374151; }
svg.chart text.tick { fill: #6b7280; font-size: 11px; }
svg.chart text.muted { fill: #9ca3af; font-size: 14px; }
svg.chart text.value { font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 6px 0 0; padding: 0; list-style: none; color: #4b5563; font-size: 13px; }
.legend span { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; margin-top: 10px; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e5e7eb; }
th { color: #6b7280; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
footer { color: #9ca3af; font-size: 12px; margin-top: 8px; }
</style>
</head>
<body>
<main>
<header>
<h1>{{.PageTitle}}</h1>
{{if .Subtitle}}<p class="sub">{{.Subtitle}}</p>{{end}}
{{if .Verdict}}<div class="verdict {{if .OK}}ok{{else}}bad{{end}}">{{.Verdict}}</div>{{end}}
</header>
{{if .Figures}}<div class="figures">
{{range .Figures}}<div class="figure{{if .Alert}} alert{{end}}"><div class="v">{{.Value}}</div><div class="l">{{.Label}}</div></div>
{{end}}</div>{{end}}
<div class="sections">
{{range .Rendered}}<section id="{{.ID}}"{{if .Half}} class="half"{{end}}>
<h2>{{.Title}}</h2>
{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
{{if .SVG}}<figure>{{.SVG}}
{{if .Legend}}<ul class="legend">{{range .Legend}}<li><span style="{{legendStyle .Color}}"></span>{{.Name}}</li>{{end}}</ul>{{end}}
</figure>{{end}}
{{with .Table}}{{$t := .}}<table>
<thead><tr>{{range $i, $c := .Columns}}<th{{if numeric $t $i}} class="num"{{end}}>{{$c}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range $i, $c := .}}<td{{if numeric $t $i}} class="num"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</tbody>
</table>{{end}}
</section>
{{end}}</div>
{{if .Footer}}<footer>{{.Footer}}</footer>{{end}}
</main>
</body>
</html>
`))
