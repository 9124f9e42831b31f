"""The synthetic Mini-EUSO instrument and its data: geometry, timing, sessions, readers, windows."""
