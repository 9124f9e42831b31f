"""Quantization-aware training of the meteor MLP, evaluation, QONNX export and the golden model."""
