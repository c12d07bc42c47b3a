"""jitcore: TorchScript for NumPy."""
