"""Mini-EUSO time bins and the ISS ground-track drift (source: flight software ``pdmdata.h``)."""

GTU_S = 2.5e-6
"""One D1 frame = one Gate Time Unit, seconds."""

D2_GTUS = 128
"""D1 frames (GTUs) summed into one D2 frame."""

D3_GTUS = 128 * 128
"""D1 frames (GTUs) summed into one D3 frame: 16,384."""

D1_S = GTU_S
D2_S = D2_GTUS * GTU_S
"""D2 frame length, seconds (320 µs)."""
D3_S = D3_GTUS * GTU_S
"""D3 frame length, seconds (40.96 ms)."""

FRAMES_PER_HOUR = int(3600.0 / D3_S)
"""D3 frames in one hour of data: 87,890."""

ISS_SPEED_KM_S = 7.66
"""ISS ground speed, km/s."""
