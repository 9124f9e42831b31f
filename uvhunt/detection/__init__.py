"""Detection on movies: every pixel's windows scored with the golden model, thresholds, events."""
