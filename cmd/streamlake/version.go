package main

// version is the application's semantic version. It must equal the template's
// SemanticVersion and the newest CHANGELOG.md entry; a test checks that.
const version = "0.1.0"
