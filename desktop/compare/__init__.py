"""Compare side by side: set up a sweep, watch its cells fill in one grid, keep one."""
