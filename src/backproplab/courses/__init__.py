"""The courses' own programming interfaces, computed by backproplab (thin facades, no formula of their own).

- `backproplab.courses.cs231n`: ``TwoLayerNet`` of cs231n / HLCV exercise 2 (``loss(X, y, reg)``, ``train``,
  ``predict``), HLCV exercise 2.
- `backproplab.courses.npnn`: the CMU "npnn" package (``Dense``, ``ELU``, ``SoftmaxCrossEntropy``, ``SGD``,
  ``Adam``, ``Sequential(modules, loss, optimizer)``, ``Dataset``), HW3 Intro to ML.

Each facade keeps the course's names, signatures, defaults and random draws (NumPy's global generator), and
hands every forward pass, backward pass, loss, penalty and update to backproplab's `nn` and `optim` modules.
"""

from . import cs231n, npnn

__all__ = ["cs231n", "npnn"]
