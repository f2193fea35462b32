# The README's Quick start: `make run` (the default suite) and `make test` (the tests).
# Each target sets up .venv first, idempotently.
.PHONY: setup run test bench clean

setup:
	@scripts/setup.sh

run: setup
	.venv/bin/compressbench run --out compressbench-out --force

test: setup
	.venv/bin/python -m pytest

bench: setup
	.venv/bin/python -m pytest benchmarks --benchmark-only --benchmark-columns=min,mean,median,ops

clean:
	rm -rf compressbench-out .pytest_cache .benchmarks
