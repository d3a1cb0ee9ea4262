"""The one difference between npnn's gradient convention and backproplab's: where the 1/N of the batch mean goes.

npnn passes the gradient of the *summed* loss between modules (``SoftmaxCrossEntropy.backward`` returns
``y_hat - y``) and each ``Dense.backward`` averages its weight gradients over the batch. backproplab divides once,
in the loss (``(y_hat - y) / N``), and its modules pass that on. These two helpers convert between the two; they
are the only arithmetic in the facade, and neither is a formula of the network: a scaling by the batch size N.
When N is a power of two (npnn's batches of 16 or 32) both scalings are exact in binary floating point (short of
underflow to subnormal numbers), so the facade's weights equal `backproplab.fit`'s bit for bit; at other batch
sizes each scaling rounds once, in the last bit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...nn import Parameter


def per_example(mean_loss_grad: Any, batch_size: int) -> Any:
    """dL_sum/dz = N dL_mean/dz: the loss gradient in npnn's convention."""
    return mean_loss_grad * batch_size


def batch_mean(params: Iterable[Parameter], batch_size: int) -> None:
    """Divide each ``grad`` (a sum over the batch) by N in place: npnn's mean batch gradient."""
    for p in params:
        p.grad /= batch_size
