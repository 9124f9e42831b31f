"""Design-space sweeps: points of the space, their evaluation and synthesis on Dask, the
Pareto front."""
