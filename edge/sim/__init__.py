"""Virtual nodes for the demo, tests and benchmarks: mock pins, emulated thermometer."""
