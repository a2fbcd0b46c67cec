# tickets: one entry point for the demo, the tests and the benchmark.
#   make demo   deploy to a local systemd container fed by the mock API, show the result
#   make check  lint + every test that needs neither Docker nor the network: the loop for a change
#   make test   lint + pytest + every Molecule scenario + the demo, end to end
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCHEDULER ?= systemd
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_HOME := $(CURDIR)/.ansible
export ANSIBLE_ROLES_PATH := $(CURDIR)/roles
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.ansible/collections
export ANSIBLE_LOCAL_TEMP := $(CURDIR)/.ansible/tmp

.PHONY: help venv prereqs chromium promtool images lint check pytest molecule test-package test-fleet test-demo test-collection test-systems docs test bench bench-deploy demo demo-clean clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

$(VENV)/.installed: requirements-dev.txt files/requirements.txt
	@scripts/venv.sh "$(PYTHON)" "$(VENV)"
	@touch $@

venv: $(VENV)/.installed ## create .venv from the pinned requirements

prereqs: ## install/start what tests and demo need (Docker engine, debootstrap)
	@scripts/prereqs.sh

chromium: ## install Debian's chromium when missing (the HTML page's browser test)
	@scripts/chromium.sh

images: prereqs ## build the systemd Debian images (bookworm, trixie, bullseye) if missing
	@scripts/build-image.sh bookworm & b=$$!; scripts/build-image.sh trixie & t=$$!; \
	scripts/build-image.sh bullseye & o=$$!; \
	rc=0; wait $$b || rc=1; wait $$t || rc=1; wait $$o || rc=1; exit $$rc

lint: venv ## ruff, yamllint, ansible-lint (production profile)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --profile production --strict

promtool: ## fetch promtool (Debian's prometheus package, not installed) into .cache/promtool
	@scripts/promtool.sh

# The tests that need Docker (demo, fleet, collection) have their own targets.
pytest: venv chromium promtool ## tests of the tool, the mock API, the role's files and README (no Docker)
	$(BIN)/pytest -n auto --dist loadfile tests --ignore=tests/demo --ignore=tests/fleet --ignore=tests/collection --ignore=tests/package

check: lint pytest ## the loop for a change: lint and pytest (no Docker, no network; about 2 minutes)

molecule: venv images ## every Molecule scenario of the role
	scripts/molecule.sh

test-package: venv ## pipx install . and pip install . give a working tickets command (downloads the pins)
	$(BIN)/pytest tests/package

test-fleet: venv prereqs ## the playbook over SSH with sudo on 3 hosts (tests/fleet)
	$(BIN)/pytest tests/fleet

test-demo: venv images ## make demo, twice, then demo-clean, checked
	$(BIN)/pytest tests/demo

test-collection: venv images ## build and install the collection (tarball, git), deploy with helpdesk.tickets.deploy
	$(BIN)/pytest tests/collection

# The three at once, one worker each: they wait on pip, SSH and systemd more
# than they compute.
test-systems: venv prereqs images ## test-fleet, test-demo and test-collection side by side
	$(BIN)/pytest -n 3 --dist loadfile tests/fleet tests/demo tests/collection

test: prereqs lint pytest test-package molecule test-systems ## everything CI runs (prerequisites first)

docs: venv ## regenerate roles/tickets/README.md from the role's argument_specs and defaults
	$(BIN)/python scripts/role-readme.py

bench: venv ## benchmarks: 1e6 tickets in one page and in 10,000 pages against the naive way and a floor; a year of history
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/history.py

bench-deploy: venv prereqs ## deploy benchmark over SSH: 1 then 10 hosts, first and no-change runs
	$(BIN)/python bench/deploy.py

demo: venv ## deploy to a local container (SCHEDULER=systemd|cron) and show the report
	@scripts/demo.sh "$(SCHEDULER)"

demo-clean: ## remove the demo container
	@scripts/demo.sh --clean

clean: ## remove the venvs and local Ansible state
	rm -rf $(VENV) .venv-ansible-* .ansible
