"""Command-line entry points, one module per stage."""
