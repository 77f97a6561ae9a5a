"""The HTTP routes, one module per resource; each function validates, calls a use-case, maps."""
