# Two commands do all the set-up on a fresh machine:
#   make demo   runs the main job on the embedded default (SQLite, a local Maildir, replies as files)
#   make test   installs the test servers (Dovecot, PostgreSQL) and runs lint, types and all tests
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install demo demo-reset desk services test bench

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

# The desk over the demo's database, on loopback, with a demo officer account (demo only).
desk: demo
	@INTAKE_NEW_PASSWORD=demo-canbo-2021 $(BIN)/intake --config config/demo.toml user add canbo --role officer >/dev/null 2>&1 || true
	@echo "Đăng nhập: tài khoản canbo, mật khẩu demo-canbo-2021 (chỉ dùng cho bản thử)."
	$(BIN)/intake --config config/demo.toml web --host 127.0.0.1 --port 8080

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
	$(BIN)/python -m bench.idle_latency --messages 50
	$(BIN)/python -m bench.floor --messages 200 --rounds 3
	$(BIN)/python -m bench.backlog_memory --backlogs 1000 10000
	$(BIN)/python -m bench.scale_out --messages 1000 --rounds 2
