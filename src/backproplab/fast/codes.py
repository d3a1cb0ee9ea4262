"""The integer codes the compiled kernels dispatch on, defined once and free of numba.

`plan` maps nn classes to them (``ACTIVATION_CODES``, ``LOSS_CODES``); the kernels compare against these
module-level ints, which numba reads as compile-time constants.
"""

from __future__ import annotations

# the activation after a Dense layer (Identity when it has none)
ACT_IDENTITY, ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_LEAKY_RELU, ACT_ELU = 0, 1, 2, 3, 4, 5
# the loss
LOSS_SOFTMAX_CE, LOSS_MSE = 0, 1
# a weight penalty: L2 with dR/dW = c W, L1 with dR/dW = c sign(W)
REG_L2, REG_L1 = 1, 2
