# The one command that runs every test: make test
#
#   gotest  formatting, go vet, and every Go test under the race detector
#           (the REST client, the embedded service, the engine, and the Lua
#           module's tests, which run Lua scripts against a fake service and
#           against the embedded one)
#   luatest the Lua tests in tests/ with wps test: the runbooks of scripts/
#           and the official SDK recordings, replayed from the fixtures
#           beside them with no network
#   e2e     the end-to-end suite: wps serve driven by the official npm
#           packages @azure/web-pubsub and @azure/web-pubsub-client,
#           installed from the lockfile in tests/e2e

.PHONY: test gotest luatest e2e

test: gotest luatest e2e

gotest:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	go vet ./...
	go test -race ./...

luatest:
	go build -o bin/wps .
	bin/wps test tests/

e2e:
	go build -o bin/wps .
	npm --prefix tests/e2e ci --no-audit --no-fund
	WPS_BIN=$(CURDIR)/bin/wps npm --prefix tests/e2e test
