# One entry point for people and CI: `make site` builds the example board, `make test` checks all.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1

.PHONY: site test warm lint typecheck format bench clean readme-reference lock

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

site: $(STAMP)
	$(BIN)/prefboard build

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# mypy --strict with the pydantic plugin over src/ (settings in pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/python -m mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# Two workers: CI and the machines here have two cores; every test keeps to its own tmp folder.
# worksteal: each worker starts on one half of the suite (a module's tests and its module-scoped
# build stay on one worker) and an idle worker takes half of the other's queue, so a long test
# queued last no longer leaves a worker idle.
test: lint
	$(MAKE) --no-print-directory -j2 typecheck warm
	$(BIN)/python -m pytest -q -n 2 --dist worksteal

# numba compiles a kernel on its first call and caches it beside the module (__pycache__): on
# a fresh clone both test workers compiled the same ~70 kernels, a minute each. One build of the
# example into a scratch folder compiles them once, beside mypy (about as long). Not fatal: if
# the build fails, the tests say why.
warm: $(STAMP)
	@tmp=$$(mktemp -d) && \
	if ! $(BIN)/prefboard build --out "$$tmp/site" > "$$tmp/log" 2>&1; then \
	  echo "warm-up build failed (the tests will show why):"; tail -n 20 "$$tmp/log"; fi; \
	rm -rf "$$tmp"

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) site build .pytest_cache .ruff_cache

# Regenerate the README's configuration reference from the pydantic models.
readme-reference: $(STAMP)
	$(BIN)/python -c "import re, pathlib; from prefboard.config_reference import reference_markdown as r; p = pathlib.Path('README.md'); s = p.read_text(); a = s.index('| Key | Default | Meaning |'); b = s.index('\n## Benchmarks'); p.write_text(s[:a] + r() + s[b:])"

# Regenerate the hash-locked requirements the publish and release jobs install (needs PyPI).
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet 'uv>=0.5,<1'
	$(BIN)/uv pip compile pyproject.toml requirements/ci.in --generate-hashes --custom-compile-command "make lock" \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 -o requirements/ci.txt
	$(BIN)/uv pip compile requirements/release.in --generate-hashes --custom-compile-command "make lock" \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 -o requirements/release.txt
