import pytest
import torch

from handhdr.training.schedule import poly_warmup_factor, poly_warmup_scheduler


def test_poly_with_linear_warm_up():
    f = poly_warmup_factor
    assert f(0, 100, 10, warmup_ratio=0.0) == 0.0
    assert f(5, 100, 10, warmup_ratio=0.0) == pytest.approx(0.5 * 0.95)
    assert f(10, 100, 10) == pytest.approx(0.9)
    assert f(50, 100, 0) == pytest.approx(0.5)
    assert f(50, 100, 0, power=2.0) == pytest.approx(0.25)
    assert f(100, 100, 10) == 0.0 and f(150, 100, 10) == 0.0
    with pytest.raises(ValueError):
        f(0, 0, 0)


def test_scheduler_applies_it_per_step():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = poly_warmup_scheduler(opt, max_steps=10, warmup_steps=0)
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([1.0, 0.9, 0.8, 0.7, 0.6])
