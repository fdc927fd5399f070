"""Local stand-ins for the platforms' APIs, faithful to their shapes: the demo runs on them, and
so do the tests and the benchmarks."""
