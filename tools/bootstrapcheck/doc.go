// Command bootstrapcheck checks Lambda bootstrap binaries the way they must be built
// for this project's functions (template.yaml: Runtime provided.al2023, Architectures
// [arm64]; Makefile: LAMBDA_GOBUILD):
//
//	go run ./tools/bootstrapcheck [-max-bytes N] [-arch arm64] [-go go1.27.3] [-pgo] bootstrap...
//
// For each file it checks that it is an ELF executable for the architecture, static
// (no program interpreter, no dynamic section), stripped (no .symtab, no DWARF), and
// that the Go build information records -tags=lambda.norpc, -trimpath=true,
// CGO_ENABLED=0, GOOS=linux, the architecture and the Go release of go.mod's
// toolchain line (read from ./go.mod when -go is empty). With -trimpath the go command
// leaves -ldflags out of the build information, so -s -w is checked by its effect:
// no .symtab and no .debug_* sections. A size bound applies when -max-bytes is positive.
// With -pgo the build information must also record a profile (-pgo=default.pgo when the
// go command found the default.pgo beside the main package): the processor is built
// with one, and a build that lost it is slower without any other sign.
//
// It reads the files with debug/elf and debug/buildinfo, the packages `go version -m`
// is built on, so no file(1) or readelf is needed. Exit status: 0 when every file
// passes, 1 when one does not (each problem is printed), 2 for a usage error.
package main
