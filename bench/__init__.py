"""Benchmarks: each script measures one thing and writes bench/results/<name>.json;
``python -m bench.run_all`` runs them and rewrites docs/PERFORMANCE.md."""
