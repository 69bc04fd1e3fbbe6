# The project's commands. `make run` and `make test` work on a fresh Debian 12
# machine: both install what is missing first (scripts/install-deps).
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps configure build run test bench fuzz format clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# run: create settings.toml (embedded SQLite store) when there is none, then
# start kisee on 127.0.0.1:8140.
run: build
	@if [ ! -f settings.toml ]; then $(BUILD)/bin/kisee-quickstart --yes --output settings.toml; fi
	@exec $(BUILD)/bin/kisee --settings settings.toml

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	@scripts/bench

fuzz:
	@scripts/install-deps --fuzz
	@scripts/fuzz

format:
	@scripts/install-deps --dev
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	@rm -rf $(BUILD)
