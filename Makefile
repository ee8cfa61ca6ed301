# Two commands on a fresh Debian/Ubuntu machine (as root, or with sudo):
#   make demo   install, then inventory + SBOM of an image built from this machine's own files
#   make test   install what the tests need (system packages, corpus images), then run them
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORPUS ?= $(abspath ../shared/corpus)
export CONTAINMENT_CORPUS ?= $(CORPUS)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test unit e2e lint system-deps corpus bench clean

$(BIN)/containment: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "containment needs Python >= 3.11"'
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { echo "installing python3-venv"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@# byte-compile now: with PYTHONDONTWRITEBYTECODE set, every run would recompile the sources
	$(BIN)/python -m compileall -q src >/dev/null
	@touch $@

install: $(BIN)/containment

demo: install
	$(BIN)/containment demo

# one package at a time, only what is missing (see .ci/system-deps.sh); never fails the build:
# tests whose tool could not be installed skip, naming the installer's line
system-deps:
	@bash .ci/system-deps.sh $(VENV)/system-deps.txt

corpus: system-deps
	@if [ -x "$(CORPUS)/build-images.sh" ] || [ -f "$(CORPUS)/build-images.sh" ]; then \
	  $(SUDO) bash "$(CORPUS)/build-images.sh" >/tmp/containment-corpus-build.log 2>&1 \
	  || { echo "corpus build failed (see /tmp/containment-corpus-build.log); corpus tests will skip"; tail -5 /tmp/containment-corpus-build.log; }; \
	else echo "no corpus at $(CORPUS): corpus tests will skip"; fi

test: install system-deps corpus lint
	$(BIN)/python -m pytest -p no:cacheprovider tests

unit: install
	$(BIN)/python -m pytest -p no:cacheprovider tests/unit

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: install corpus
	$(BIN)/python bench/inventory_vs_syft.py
	$(BIN)/python bench/sbom_speed.py

clean:
	rm -rf $(VENV) build *.egg-info
