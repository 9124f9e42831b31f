"""Tests of uvhunt, one folder per package."""
