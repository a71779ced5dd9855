"""ratebench performance harness; run ``python -m benchmarks.run --help``."""
