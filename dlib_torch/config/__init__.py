"""Studies: sweeps mapping model numbers to configurations."""
