// Module testpod is test/cluster's workload program, built into an image
// by make test-cluster. It is a module of its own so that `go install ./...`
// at the repository's root (how pre-commit installs the gitseal-scan hook)
// does not install it.
module github.com/gitseal/gitseal/test/cluster/testpod

go 1.26.2
