# The two entry points the README starts with. Every install step is cached and skipped when
# its output already exists at the pinned version.
.PHONY: demo test lint typecheck bench venv fuzz

venv:
	@bash scripts/venv.sh

demo: venv
	bash scripts/demo.sh

test: venv
	bash scripts/test.sh

lint: venv
	.venv/bin/ruff check baas topology pki tests bench
	.venv/bin/ruff format --check baas topology pki tests bench

typecheck: venv
	.venv/bin/mypy

bench: venv
	.venv/bin/python bench/topology_bench.py
	.venv/bin/python bench/pki_bench.py
	.venv/bin/python bench/render_bench.py
	.venv/bin/python bench/up_bench.py --repeat 3
	.venv/bin/python bench/kube_bench.py

# The topology fuzz test with a long budget (make test runs it with a short one); prints the
# inputs tried, the crashes found and the slowest input. BAAS_FUZZ_EXAMPLES=N: examples per test.
fuzz: venv
	.venv/bin/python bench/fuzz_topology.py
