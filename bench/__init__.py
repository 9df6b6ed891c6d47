"""The benchmark suite: our server against same-run baselines (docs/PERFORMANCE.md)."""
