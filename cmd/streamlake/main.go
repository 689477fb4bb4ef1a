// Command streamlake is the project's developer CLI: it produces sensor data into a
// stream, runs the whole pipeline locally, invokes functions without Docker, tests
// event filters, redrives failed batches and queries summaries. It is never deployed.
//
// Exit codes: 0 success, 1 failure, 2 usage error. Human output goes to stdout by
// default; --json switches a command to machine-readable output. Diagnostics go to
// stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/streamlake/streamlake/internal/producer"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand. run parses its own flags from args (the words after the
// subcommand name) and returns an exit code.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) int
}

// env is what a subcommand may touch of the process: its streams and variables.
// Tests build their own to run commands in-process.
type env struct {
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// isTerminal reports whether stderr is a terminal (progress bars draw only then).
	isTerminal bool
	// kinesis, when not nil, is what `produce` puts records through instead of
	// a client of the AWS configuration (newAWSClients): tests give a fake.
	kinesis producer.API
}

// commands is filled by each subcommand file's init function.
var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("duplicate command " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, isTerminal: isTerminal(os.Stderr)}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the exit code.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		return runHelp(ctx, e, args[0], args[1:])
	case "-version", "--version", "version":
		switch {
		case len(args) > 1 && isHelpFlag(args[1]):
			versionUsage(e.stderr)
			return exitOK
		case len(args) > 1:
			fmt.Fprintf(e.stderr, "streamlake %s: unexpected argument %q (it takes none)\n", args[0], args[1])
			return exitUsage
		}
		fmt.Fprintf(e.stdout, "streamlake %s\n", version)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "streamlake: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return exitUsage
	}
	return c.run(ctx, e, args[1:])
}

// runHelp prints the list of commands, or with a command's name that command's
// flags (as `streamlake <command> --help` does).
func runHelp(ctx context.Context, e *env, name string, args []string) int {
	switch {
	case len(args) == 0:
		usage(e.stdout)
		return exitOK
	case len(args) > 1:
		fmt.Fprintf(e.stderr, "streamlake %s: unexpected argument %q (give one command)\n", name, args[1])
		return exitUsage
	}
	if args[0] == "version" {
		versionUsage(e.stderr)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "streamlake %s: unknown command %q\n\n", name, args[0])
		usage(e.stderr)
		return exitUsage
	}
	return c.run(ctx, e, []string{"--help"})
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: streamlake <command> [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	// version is answered by run itself (it is also the --version flag); its
	// name sorts after every other command's.
	fmt.Fprintf(w, "  %-10s %s\n", "version", versionSummary)
	fmt.Fprintf(w, "\nRun 'streamlake <command> --help' or 'streamlake help <command>' for a command's flags.\n")
}

const versionSummary = "print the CLI's version (also --version)"

// versionUsage is the --help of the version command.
func versionUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: streamlake version\n\nPrints the CLI's version, as --version does. It takes no flags.\n")
}

func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "-help", "--help":
		return true
	}
	return false
}

// newFlagSet returns a flag set for a subcommand that reports errors instead of
// exiting, with usage text that names the command.
func newFlagSet(e *env, name, argsUsage, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: streamlake %s [flags] %s\n\n%s\n\nFlags:\n", name, argsUsage, description)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and returns (done, code): done is true when the caller must
// return code at once (help was asked for, or the flags were wrong).
func parseFlags(fs *flag.FlagSet, args []string) (bool, int) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return false, exitOK
	case errors.Is(err, flag.ErrHelp):
		return true, exitOK
	default:
		return true, exitUsage
	}
}

// usageError prints a usage problem found after flag parsing and returns exitUsage.
func usageError(fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(fs.Output(), "streamlake %s: %s\n\n", fs.Name(), fmt.Sprintf(format, a...))
	fs.Usage()
	return exitUsage
}

// printJSON writes v to stdout as the --json output of command: one document,
// indented by two spaces. A failed write is reported and exits 1.
func printJSON(e *env, command string, v any) int {
	if err := encodeJSON(e.stdout, v, true); err != nil {
		fmt.Fprintf(e.stderr, "streamlake %s: write output: %v\n", command, err)
		return exitFailure
	}
	return exitOK
}

// encodeJSON writes v to w as JSON and a newline: indented by two spaces (with
// <, > and & escaped, encoding/json's default), or compact on one line with
// them as they are (cost's document, filters' JSON Lines).
func encodeJSON(w io.Writer, v any, indent bool) error {
	enc := json.NewEncoder(w)
	if indent {
		enc.SetIndent("", "  ")
	} else {
		enc.SetEscapeHTML(false)
	}
	return enc.Encode(v)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
