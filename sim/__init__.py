"""Hardware simulation plumbing: simulators, the cocotb runner, stimulus files, reports."""
