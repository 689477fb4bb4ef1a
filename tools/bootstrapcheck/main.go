package main

import (
	"bufio"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/streamlake/streamlake/tools/internal/cli"
)

func main() { cli.Main(run) }

// want is what a bootstrap must be.
type want struct {
	arch     string // GOARCH
	goVer    string // e.g. go1.27.3
	maxBytes int64  // <= 0: no bound
	pgo      bool   // built with a profile (build setting -pgo)
}

var elfMachines = map[string]elf.Machine{
	"arm64": elf.EM_AARCH64,
	"amd64": elf.EM_X86_64,
}

// run is the command: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("bootstrapcheck", stderr)
	maxBytes := fs.Int64("max-bytes", 0, "largest allowed file size in bytes (0: no bound)")
	arch := fs.String("arch", "arm64", "GOARCH the binaries must be built for (arm64 or amd64)")
	goVer := fs.String("go", "", "Go release the binaries must be built with (default: go.mod's toolchain line)")
	pgo := fs.Bool("pgo", false, "the binaries must be profile-guided builds (the go command's -pgo, e.g. the default.pgo beside the main package)")
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "bootstrapcheck: want one or more bootstrap files")
		return 2
	}
	if _, ok := elfMachines[*arch]; !ok {
		fmt.Fprintf(stderr, "bootstrapcheck: -arch %q: want arm64 or amd64\n", *arch)
		return 2
	}
	w := want{arch: *arch, goVer: *goVer, maxBytes: *maxBytes, pgo: *pgo}
	if w.goVer == "" {
		v, err := toolchainLine("go.mod")
		if err != nil {
			fmt.Fprintf(stderr, "bootstrapcheck: %v\n", err)
			return 2
		}
		w.goVer = v
	}
	status := 0
	for _, path := range fs.Args() {
		problems, size, err := check(path, w)
		if err != nil {
			fmt.Fprintf(stderr, "bootstrapcheck: %s: %v\n", path, err)
			status = 1
			continue
		}
		if len(problems) > 0 {
			for _, p := range problems {
				fmt.Fprintf(stderr, "bootstrapcheck: %s: %s\n", path, p)
			}
			status = 1
			continue
		}
		pgoNote := ""
		if w.pgo {
			pgoNote = ", profile-guided"
		}
		fmt.Fprintf(stdout, "%s: ok: static stripped linux/%s ELF, %s, lambda.norpc, trimpath%s, %d bytes\n", path, w.arch, w.goVer, pgoNote, size)
	}
	return status
}

// toolchainLine returns the release named by the toolchain directive of a go.mod file.
func toolchainLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read toolchain line: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "toolchain "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read toolchain line: %w", err)
	}
	return "", fmt.Errorf("%s has no toolchain line; pass -go", path)
}

// check returns what is wrong with the binary at path (nothing when it is as w
// says) and its size; err is for a file that cannot be read as an ELF Go binary.
func check(path string, w want) (problems []string, size int64, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, fmt.Errorf("stat: %w", err)
	}
	size = st.Size()
	f, err := elf.Open(path)
	if err != nil {
		return nil, size, fmt.Errorf("not an ELF file: %w", err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 {
		problems = append(problems, fmt.Sprintf("ELF class %v; want ELFCLASS64", f.Class))
	}
	if f.Machine != elfMachines[w.arch] {
		problems = append(problems, fmt.Sprintf("machine %v; want %v (%s)", f.Machine, elfMachines[w.arch], w.arch))
	}
	if f.Type != elf.ET_EXEC {
		problems = append(problems, fmt.Sprintf("ELF type %v; want ET_EXEC (a static executable, not PIE)", f.Type))
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			problems = append(problems, "has a program interpreter (PT_INTERP): dynamically linked; want CGO_ENABLED=0")
		}
	}
	for _, s := range f.Sections {
		switch {
		case s.Name == ".dynamic":
			problems = append(problems, "has a .dynamic section: dynamically linked; want CGO_ENABLED=0")
		case s.Name == ".symtab":
			problems = append(problems, "has a symbol table (.symtab): not stripped; want -ldflags='-s -w'")
		case strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_"):
			problems = append(problems, fmt.Sprintf("has DWARF (%s); want -ldflags='-s -w'", s.Name))
		}
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return problems, size, fmt.Errorf("no Go build information: %w", err)
	}
	if info.GoVersion != w.goVer {
		problems = append(problems, fmt.Sprintf("built with %s; want %s (go.mod toolchain line; GOTOOLCHAIN)", info.GoVersion, w.goVer))
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if !hasField(settings["-tags"], ",", "lambda.norpc") {
		problems = append(problems, fmt.Sprintf("build tags %q; want lambda.norpc", settings["-tags"]))
	}
	for key, v := range map[string]string{"-trimpath": "true", "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": w.arch} {
		if settings[key] != v {
			problems = append(problems, fmt.Sprintf("build setting %s=%q; want %q", key, settings[key], v))
		}
	}
	if w.pgo && (settings["-pgo"] == "" || settings["-pgo"] == "off") {
		problems = append(problems, "no profile-guided build (build setting -pgo missing); want the default.pgo beside the main package")
	}
	if w.maxBytes > 0 && size > w.maxBytes {
		problems = append(problems, fmt.Sprintf("%d bytes; want at most %d", size, w.maxBytes))
	}
	return problems, size, nil
}

// hasField reports whether list, split at sep, has the field f.
func hasField(list, sep, f string) bool {
	for _, x := range strings.Split(list, sep) {
		if strings.Trim(x, `"'`) == f {
			return true
		}
	}
	return false
}
