// Package motoserver starts moto server (the Python AWS API emulator, package
// moto[server]) on free loopback ports, for integration tests and for the local
// pipeline: one server (Start, StartDetached, ForTest), or the processes of
// Layout, one per group of services (StartGroup), whose endpoints the clients
// reach through the standard per-service variables (EndpointEnv).
//
// moto runs through launcher.py, embedded here and written to the user's cache
// directory, which applies fixes for moto 5.2.5's hot spots and thread-safety
// problems at start-up without changing any answer (see its docstring; the tests
// compare stock and patched answers call for call), makes Kinesis resharding
// behave as Kinesis Data Streams does (fix 7: moto 5.2.5's SplitShard puts the
// parent's records again with new sequence numbers, MergeShards copies them
// into the child, PutRecord(s) may
// write to a closed parent, GetRecords never ends a closed shard; these answers
// differ from stock moto on purpose and are tested against Kinesis's documented
// behaviour in internal/kinesisreshard's tests), makes DynamoDB's update-expression
// sums exact to 38 significant digits and plain, as DynamoDB's are (fix 9: moto
// 5.2.5 adds with 28 digits and fails on a stored number in exponent form; these
// answers differ from stock moto on purpose too), makes TransactWriteItems honour
// its ClientRequestToken for 10 minutes, as DynamoDB does (fix 10: moto 5.2.5
// runs a resent transaction again; a differing answer on purpose as well), and
// answers
// /__streamlake/launcher with its status (ReadStatus): whether it is patched, its
// process id, and how many requests it answered with a 5xx. A hand-written
// launcher, because the fixes are not in any moto release (5.2.6, the newest,
// has the same code).
//
// The binary is looked up, in order, from $MOTO_SERVER, from
// .venv-emulator/bin/moto_server or .venv/bin/moto_server at the module root (what
// `make venv-emulator` and `make venv` create), and from $PATH; the launcher runs
// under the interpreter of that script's #! line.
//
// Stop ends detached servers by process group (SIGTERM, SIGKILL after a grace
// period) and returns once they have exited.
//
// See https://docs.getmoto.org/en/latest/docs/server_mode.html.
package motoserver
