"""Speed benchmarks of backproplab against PyTorch, scikit-learn and a plain NumPy loop (not part of the tests).

Run ``bash scripts/bench.sh`` (or ``python -m benchmarks.run --help`` from the repository root).
"""
