"""uvhunt: tiny neural networks for space-borne UV transient detection, onto FPGAs."""

__version__ = "0.1.0"
