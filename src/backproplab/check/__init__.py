"""Gradient checking: numerical (central-difference) gradients against every module's backward.

The tools (`gradcheck`, `rel_error`, the plain NumPy `two_layer_net`); a run's ``[check]`` config section says
which of them to apply to its initial model (`backproplab.experiments.run.initial_checks`), and the
``gradcheck`` command applies them to the built-in catalogue (`backproplab.check.catalogue`).
"""

from .gradcheck import GradcheckReport, gradcheck, rel_error
from .reference import two_layer_net

__all__ = ["GradcheckReport", "gradcheck", "rel_error", "two_layer_net"]
