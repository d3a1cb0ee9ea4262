"""Gradient checking: numerical (central-difference) gradients against every module's backward."""

from .gradcheck import GradcheckReport, gradcheck, rel_error

__all__ = ["GradcheckReport", "gradcheck", "rel_error"]
