package samtemplate

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks that no template text makes Load panic, and that every failure is
// an error.
func FuzzLoad(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	errSeeds, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range append(seeds, errSeeds...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "")
	}
	f.Add([]byte("Resources: {A: {Type: X, Properties: {P: !Sub '${'}}}"), "A=1")
	f.Fuzz(func(t *testing.T, src []byte, overrides string) {
		ov, err := ParseParameterOverrides(overrides)
		if err != nil {
			ov = nil
		}
		tpl, err := load("fuzz.yaml", src, Options{Overrides: ov})
		if err == nil && tpl == nil {
			t.Fatal("load returned neither a template nor an error")
		}
	})
}

func BenchmarkLoadProjectTemplate(b *testing.B) {
	src, err := os.ReadFile("../../template.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := load("template.yaml", src, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/load")
}
