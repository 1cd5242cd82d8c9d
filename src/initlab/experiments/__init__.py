"""Named, reproducible experiments."""
