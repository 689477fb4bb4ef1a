package samtemplate

import (
	"strings"
	"testing"
)

// An alias bomb (each level ten times the one before) must fail fast, not exhaust
// memory.
func TestLoadAliasBomb(t *testing.T) {
	src := `
Metadata:
  a: &a [x, x, x, x, x, x, x, x, x, x]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
  i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
Resources:
  Q:
    Type: X
    Properties:
      P: *i
`
	_, err := load("bomb.yaml", []byte(src), Options{})
	if err == nil || !strings.Contains(err.Error(), "template expands to more than 2000000 values") {
		t.Errorf("load(alias bomb) error = %v; want the expansion limit", err)
	}
}
