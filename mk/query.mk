# Query API: benchmark (included by the root Makefile, which defines `venv`).
.PHONY: bench-query
bench-query: venv ## GET /media (page 1, a deep page) and /media/stats with 1,000 vs 100,000 records of one owner
	.venv/bin/python bench/bench_query.py
