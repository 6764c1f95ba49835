"""Hinton et al. 2015 distillation loss against a hand computation, and the training helper."""

import math

import pytest

torch = pytest.importorskip("torch")

from wattwise.compress.distill import distill, finetune, kd_loss  # noqa: E402
from wattwise.errors import InvalidValueError  # noqa: E402


def _softmax(z):
    m = max(z)
    e = [math.exp(x - m) for x in z]
    s = sum(e)
    return [x / s for x in e]


def test_kd_loss_matches_hand_computation():
    s = [1.0, 2.0, 0.5]
    t = [2.0, 0.0, 1.0]
    T, alpha, label = 2.0, 0.7, 1
    p_t = _softmax([x / T for x in t])
    p_s = _softmax([x / T for x in s])
    kl = sum(pt * math.log(pt / ps) for pt, ps in zip(p_t, p_s))
    ce = -math.log(_softmax(s)[label])
    want = alpha * T * T * kl + (1 - alpha) * ce
    got = kd_loss(torch.tensor([s]), torch.tensor([t]), torch.tensor([label]), temperature=T, alpha=alpha)
    assert got.item() == pytest.approx(want, rel=1e-6)
    # unlabeled: the soft term alone, T^2-scaled
    soft = kd_loss(torch.tensor([s]), torch.tensor([t]), temperature=T)
    assert soft.item() == pytest.approx(T * T * kl, rel=1e-6)
    # batch mean: two copies give the same value
    two = kd_loss(torch.tensor([s, s]), torch.tensor([t, t]), temperature=T)
    assert two.item() == pytest.approx(soft.item(), rel=1e-6)
    # identical logits: zero soft loss
    assert kd_loss(torch.tensor([s]), torch.tensor([s])).item() == pytest.approx(0.0, abs=1e-7)


def test_kd_loss_rejects_bad_input():
    with pytest.raises(InvalidValueError, match="temperature"):
        kd_loss(torch.zeros(1, 3), torch.zeros(1, 3), temperature=0)
    with pytest.raises(InvalidValueError, match="alpha"):
        kd_loss(torch.zeros(1, 3), torch.zeros(1, 3), alpha=1.5)
    with pytest.raises(InvalidValueError, match="same shape"):
        kd_loss(torch.zeros(1, 3), torch.zeros(1, 4))


def test_distill_moves_student_towards_teacher_unlabeled_and_labelled():
    torch.manual_seed(0)
    teacher = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4)).eval()
    student = torch.nn.Linear(8, 4)
    xs = torch.randn(256, 8)
    unlabeled = [xs[i:i + 32] for i in range(0, 256, 32)]

    def gap():
        with torch.no_grad():
            return kd_loss(student(xs), teacher(xs)).item()

    before = gap()
    res = distill(teacher, student, unlabeled, epochs=5, lr=1e-2, progress=False)
    assert res.steps == 40 and len(res.epoch_losses) == 5
    assert gap() < 0.5 * before
    assert not student.training
    labelled = [(x, teacher(x).argmax(-1)) for x in unlabeled]
    res2 = distill(teacher, student, labelled, epochs=1, lr=1e-2, progress=True, max_steps=3)   # rich bar
    assert res2.steps == 3
    res3 = finetune(student, labelled, epochs=1, lr=1e-2, progress=False)
    assert res3.samples == 256
    with pytest.raises(InvalidValueError, match="labelled"):
        finetune(student, unlabeled, progress=False)
