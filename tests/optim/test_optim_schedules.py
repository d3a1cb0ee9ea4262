"""Learning-rate schedules: StepDecay (cs231n lr_decay) and InverseScaling, applied per epoch."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab.nn import Parameter
from backproplab.optim import SGD, Adam, InverseScaling, StepDecay


def test_step_decay_by_hand() -> None:
    assert [StepDecay(0.5)(0.1, e) for e in range(4)] == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    assert [StepDecay(0.1, step_size=2)(1.0, e) for e in range(5)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])


def test_inverse_scaling_by_hand() -> None:
    assert [InverseScaling()(1.0, e) for e in range(4)] == pytest.approx([1, 1 / 2**0.5, 1 / 3**0.5, 0.5])
    assert InverseScaling(power=1.0, decay=0.5)(0.2, 4) == pytest.approx(0.2 / 3)
    assert InverseScaling(power=0.0)(0.3, 10) == pytest.approx(0.3)


@pytest.mark.parametrize("opt_class", [SGD, Adam])
def test_optimizer_takes_its_rate_from_the_schedule(opt_class: type) -> None:
    opt = opt_class([Parameter(np.zeros(2))], lr=0.2, schedule=StepDecay(0.5))
    assert opt.lr == 0.2
    assert opt.set_epoch(2) == pytest.approx(0.05) and opt.lr == pytest.approx(0.05)
    assert opt.base_lr == 0.2
    assert opt_class([Parameter(np.zeros(2))], lr=0.2).set_epoch(7) == 0.2  # no schedule: constant


def test_the_scheduled_rate_is_the_one_used_by_step() -> None:
    p = Parameter(np.array([1.0]))
    opt = SGD([p], lr=1.0, schedule=StepDecay(0.1))
    opt.set_epoch(1)
    p.grad[...] = 1.0
    opt.step()
    assert p.value[0] == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: StepDecay(0.0), r"StepDecay gamma must be in \(0, 1\]; got 0.0"),
        (lambda: StepDecay(1.5), r"StepDecay gamma must be in \(0, 1\]; got 1.5"),
        (lambda: StepDecay(0.5, step_size=0), "StepDecay step_size must be >= 1; got 0"),
        (lambda: InverseScaling(power=-1.0), "InverseScaling power and decay must be >= 0"),
        (lambda: InverseScaling(decay=-0.1), "InverseScaling power and decay must be >= 0"),
    ],
)
def test_bad_schedules_are_rejected(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
