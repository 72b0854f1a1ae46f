"""A graph file that fails on import, as a typo would make it."""

raise ImportError("a module this graph needs is not installed")
