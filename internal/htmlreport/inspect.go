package htmlreport

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Outline is the structure Inspect found in a page.
type Outline struct {
	Title string
	// Sections are the ids of the <section> elements, in order.
	Sections []string
	// Charts are the ids of the <svg> elements, in order.
	Charts []string
	// ChartTitles maps a chart id to its <title> text.
	ChartTitles map[string]string
}

// Inspect checks that doc is a self-contained page as Write produces it and
// returns its outline. It fails if doc is not well-formed XML (so every inline SVG
// is well-formed too), if it has a <script>, <link>, <img>, <iframe>, <object>,
// <embed> or <base> element, an event-handler attribute (onload=…), an href, src
// or similar attribute that is not a fragment link, or CSS that loads anything
// (url(…), @import); or if an <svg> lacks an id or a <title>.
func Inspect(doc []byte) (*Outline, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	dec.Entity = xml.HTMLEntity
	out := &Outline{ChartTitles: map[string]string{}}
	var stack []string
	inTitle, inPageTitle := "", false
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("htmlreport: not well-formed: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			switch name {
			case "script", "link", "img", "iframe", "object", "embed", "base", "image", "use", "foreignobject", "audio", "video", "source":
				return nil, fmt.Errorf("htmlreport: <%s> element: the page must not load or run anything", name)
			}
			attrs := map[string]string{}
			for _, a := range t.Attr {
				key := strings.ToLower(a.Name.Local)
				attrs[key] = a.Value
				switch {
				case strings.HasPrefix(key, "on"):
					return nil, fmt.Errorf("htmlreport: <%s %s=…>: event handlers are not allowed", name, key)
				case key == "href" || key == "src" || key == "srcset" || key == "action" || key == "formaction" || key == "poster" || key == "data":
					if !strings.HasPrefix(a.Value, "#") {
						return nil, fmt.Errorf("htmlreport: <%s %s=%q>: external reference", name, key, a.Value)
					}
				case key == "style" && loadsCSS(a.Value):
					return nil, fmt.Errorf("htmlreport: <%s style=%q> loads a resource", name, a.Value)
				}
			}
			if name == "meta" && strings.EqualFold(attrs["http-equiv"], "refresh") {
				return nil, errors.New("htmlreport: <meta http-equiv=refresh> is not allowed")
			}
			switch name {
			case "section":
				out.Sections = append(out.Sections, attrs["id"])
			case "svg":
				if attrs["id"] == "" {
					return nil, errors.New("htmlreport: an <svg> has no id")
				}
				out.Charts = append(out.Charts, attrs["id"])
			case "title":
				if len(stack) > 0 && stack[len(stack)-1] == "svg" {
					inTitle = out.Charts[len(out.Charts)-1]
				} else if len(stack) > 0 && stack[len(stack)-1] == "head" {
					inPageTitle = true
				}
				text.Reset()
			}
			stack = append(stack, name)
		case xml.EndElement:
			name := strings.ToLower(t.Name.Local)
			if len(stack) == 0 || stack[len(stack)-1] != name {
				return nil, fmt.Errorf("htmlreport: unexpected </%s>", name)
			}
			stack = stack[:len(stack)-1]
			if name == "title" {
				switch {
				case inTitle != "":
					out.ChartTitles[inTitle] = text.String()
					inTitle = ""
				case inPageTitle:
					out.Title = text.String()
					inPageTitle = false
				}
			}
		case xml.CharData:
			if inTitle != "" || inPageTitle {
				text.Write(t)
			}
			if len(stack) > 0 && stack[len(stack)-1] == "style" && loadsCSS(string(t)) {
				return nil, errors.New("htmlreport: the style sheet loads a resource")
			}
		}
	}
	for _, id := range out.Charts {
		if out.ChartTitles[id] == "" {
			return nil, fmt.Errorf("htmlreport: chart %s has no <title>", id)
		}
	}
	return out, nil
}

func loadsCSS(css string) bool {
	css = strings.ToLower(css)
	return strings.Contains(css, "url(") || strings.Contains(css, "@import")
}
