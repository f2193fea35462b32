# The README's Quick start: `make run` (the default suite) and `make test` (the tests).
# Each target sets up .venv first, idempotently.
.PHONY: setup run test bench clean

setup:
	@scripts/setup.sh

run: setup
	.venv/bin/compressbench run --out compressbench-out --force

# Two pytest-xdist workers (whole test files each, so a file's shared runs happen once); -n 0 runs in one process.
test: setup
	.venv/bin/python -m pytest -n 2 --dist loadfile

bench: setup
	.venv/bin/python -m pytest benchmarks --benchmark-only --benchmark-columns=min,mean,median,ops

clean:
	rm -rf compressbench-out .pytest_cache .benchmarks
