"""Firmware generation: hls4ml HLS projects with a bit-exact C simulation."""
