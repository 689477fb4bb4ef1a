// Package htmlreport renders a run report as one self-contained HTML page: inline
// CSS and inline SVG charts (line, horizontal bar, and bar-plus-line charts),
// tables and headline figures, with no script, font, image or stylesheet loaded
// from anywhere, so the file can be mailed, archived as a CI artifact or opened
// offline. The page is also well-formed XML (void elements are self-closed), so
// tools and tests can parse it with encoding/xml.
//
// The package knows nothing about pipelines: callers describe a Page (package
// pipeline turns its Report into one).
package htmlreport
