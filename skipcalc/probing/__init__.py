"""The only package that imports PyTorch: skipcalc.probe measures the note's numbers on a real
model (run.py), element by element in low precision (lowprec.py), from estimators that never
form a Jacobian (estimate.py), on blocks found in the model (blocks.py) or on presets built
here (presets.py)."""
