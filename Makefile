# The one command that runs every test: make test
# (Go unit and integration tests under the race detector, then the
# end-to-end tests that drive wps with the official npm clients.)

.PHONY: test gotest

test: gotest

gotest:
	gofmt -l . | (! grep .) || (echo "gofmt: the files above need formatting"; exit 1)
	go vet ./...
	go test -race ./...
