// Package cli is what the project's check tools (tools/iamcheck,
// tools/sarcheck, tools/bootstrapcheck) share as commands: a main that exits
// with the status its run function returns, and flag parsing that reports a
// bad flag instead of exiting, so that run can be tested in-process.
//
// Exit statuses: 0 success (and -h), 1 a failed check, 2 a usage error.
package cli

import (
	"errors"
	"flag"
	"io"
	"os"
)

// Main runs run with the process's arguments and standard streams and exits
// with the status it returns.
func Main(run func(args []string, stdout, stderr io.Writer) int) {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// NewFlagSet returns a flag set named name that prints its errors and usage to
// stderr and returns them instead of exiting.
func NewFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// Parse parses args with fs. When done is true the command must return code at
// once: 0 after -h or -help (fs printed the usage), 2 after a bad flag (fs
// printed the error and the usage).
func Parse(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	default:
		return 2, true
	}
}
