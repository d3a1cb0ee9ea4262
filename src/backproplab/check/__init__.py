"""Gradient checking: numerical (central-difference) gradients against every module's backward."""

from .gradcheck import GradcheckReport, gradcheck, rel_error
from .reference import two_layer_net

__all__ = ["GradcheckReport", "gradcheck", "rel_error", "two_layer_net"]
