import pytest
import torch

from handhdr.training.schedule import (
    follow_config_schedule,
    poly_warmup_factor,
    poly_warmup_scheduler,
    step_decay_factor,
    step_decay_scheduler,
)


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


def test_step_decay_multiplies_by_gamma_at_each_milestone():
    assert [step_decay_factor(s, [3, 5], 0.1) for s in (0, 2, 3, 4, 5, 9)] == pytest.approx(
        [1, 1, 0.1, 0.1, 0.01, 0.01]
    )
    assert step_decay_factor(7, [5, 3], 0.5) == pytest.approx(0.25)  # order does not matter


def _lrs(milestones, steps, state=None, base_lr=1.0):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    scheduler = step_decay_scheduler(optimizer, milestones, 0.1)
    if state is not None:
        scheduler.load_state_dict(state)
    out = []
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        out.append(optimizer.param_groups[0]["lr"])
    return out, scheduler


def test_a_resumed_schedule_follows_the_new_milestones_and_learning_rate():
    _, first = _lrs([2], 4)  # decayed at step 2: lr 0.1 at step 4
    checkpoint = {"lr_schedulers": [first.state_dict()]}
    follow_config_schedule(checkpoint, base_lr=0.5)
    lrs, _ = _lrs([6], 4, checkpoint["lr_schedulers"][0], base_lr=0.5)
    # steps 5..8 on the new milestone (6): the old decay is gone, the new lr is used
    assert lrs == pytest.approx([0.5, 0.05, 0.05, 0.05])


def test_a_legacy_multistep_checkpoint_resumes_on_the_new_milestones():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    legacy = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[1], gamma=0.1)
    for _ in range(3):
        optimizer.step()
        legacy.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1)
    checkpoint = {"lr_schedulers": [legacy.state_dict()]}
    follow_config_schedule(checkpoint, base_lr=1.0)
    lrs, scheduler = _lrs([5], 3, checkpoint["lr_schedulers"][0])
    assert scheduler.last_epoch == 6
    assert lrs == pytest.approx([1.0, 0.1, 0.1])  # steps 4, 5, 6: decayed at 5 only
