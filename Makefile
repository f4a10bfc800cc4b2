# Two commands do all the set-up on a fresh machine:
#   make demo   runs the main job on the embedded default (SQLite, a local Maildir, replies as files)
#   make test   installs the test servers (Dovecot, PostgreSQL) and runs lint, types and all tests
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install demo demo-reset services test bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/python -m samples.demo_mailbox var/demo/mailbox
	$(BIN)/intake --config config/demo.toml poll
	$(BIN)/intake --config config/demo.toml status
	@echo "Thư trả lời đã ghi vào var/demo/outbox/"

demo-reset:
	rm -rf var/demo

services:
	bash scripts/test-services.sh

test: install services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: install services
	$(BIN)/python -m bench.poll_throughput
	$(BIN)/python -m bench.reading_files
	$(BIN)/python -m bench.fetch_memory --megabytes 100
