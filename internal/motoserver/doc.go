// Package motoserver starts a moto server (the Python AWS API emulator, package
// moto[server]) on a free loopback port, for integration tests and for the local
// pipeline. Every AWS SDK client honours the standard AWS_ENDPOINT_URL, so pointing
// that variable at Server.URL is all a client needs.
//
// The binary is looked up, in order, from $MOTO_SERVER, from .venv/bin/moto_server at
// the module root (what `make venv` creates), and from $PATH.
//
// See https://docs.getmoto.org/en/latest/docs/server_mode.html.
package motoserver
