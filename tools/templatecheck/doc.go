// Package templatecheck holds the checks of template.yaml and samconfig.toml that no
// emulator can make, run by `go test` (and so by `make test`): names built from the
// stack name fit their services' limits for the longest stack name CloudFormation
// allows, parameter patterns admit only values the functions accept, the build
// method and the Makefile agree, samconfig.toml is complete for every environment,
// and the README says how to delete what `sam delete` keeps.
//
// The checks are functions of a resolved template (internal/samtemplate), so each
// has a test on a template that breaks it, besides the test on the repository's.
package templatecheck
