"""Model pieces: DSI, losses, ResNet-18 in torchvision format, checkpoints."""

from __future__ import annotations

import math

import pytest
import torch

from modeling.semantic import losses as L
from modeling.semantic.dsi import DSI


def test_dsi_attention_is_a_distribution_and_starts_as_identity():
    torch.manual_seed(0)
    dsi = DSI(16, 3)
    S = dsi.states(torch.randn(4, 6, 16))
    x = torch.randn(4, 16)
    out, a = dsi(x, S)
    assert a.shape == (4, 6)
    assert torch.allclose(a.sum(-1), torch.ones(4), atol=1e-5) and (a >= 0).all()
    assert torch.allclose(out, x)  # W_k = 0 at start
    for W in dsi.W:
        torch.nn.init.normal_(W.weight, std=0.3)
    S = dsi.states(torch.randn(4, 6, 16))
    out, a = dsi(x, S)
    assert not torch.allclose(out, x)
    cands, ac = dsi(torch.randn(4, 9, 16), S)  # the product side: a candidate list per dialog
    assert cands.shape == (4, 9, 16) and ac.shape == (4, 9, 6)
    # the state with the highest cosine to x gets the largest weight in the first hop
    one = DSI(3, 1)
    S1 = one.states(torch.tensor([[[1.0, 0, 0], [0, 1.0, 0], [-1.0, 0, 0]]]))
    _, a1 = one(torch.tensor([[2.0, 0.1, 0]]), S1)
    assert a1[0].argmax() == 0 and a1[0].argmin() == 2


def test_js_divergence():
    p = torch.tensor([[0.2, 0.3, 0.5]])
    q = torch.tensor([[0.6, 0.3, 0.1]])
    assert float(L.js_divergence(p, p)) == pytest.approx(0.0, abs=1e-6)
    assert float(L.js_divergence(p, q)) == pytest.approx(float(L.js_divergence(q, p)))
    m = (p + q) / 2
    by_hand = 0.5 * float((p * (p / m).log()).sum()) + 0.5 * float((q * (q / m).log()).sum())
    assert float(L.js_divergence(p, q)) == pytest.approx(by_hand)
    disjoint = L.js_divergence(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]))
    assert float(disjoint) == pytest.approx(math.log(2), abs=1e-4)


def test_losses_by_hand():
    scores = torch.tensor([[0.9, 0.2, 0.95], [0.1, 0.5, -0.9]])
    assert L.rank_loss(scores, 1.0).tolist() == pytest.approx([(0.3 + 1.05) / 2, (1.4 + 0.0) / 2])
    g = torch.tensor([[0.1, 0.3, 0.05]])
    assert L.js_loss(g).tolist() == pytest.approx([(0.0 + 0.05) / 2])
    x = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    y = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])
    assert L.cosim_loss(x, y, centered=False).tolist() == pytest.approx([0.0 + 1.0])
    f = L.relevance(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]), torch.tensor([[[1.0, 0.0]]]), torch.tensor([[[0.0, -1.0]]]))
    assert float(f) == pytest.approx(math.tanh(0.0))
    S = torch.zeros(2, 3, 4)
    assert L.mse_loss(S, S + 2).tolist() == pytest.approx([4.0, 4.0])


def test_centred_cosim_resists_collapse():
    """All products on one shared direction meet the literal co-sim, not the centred one."""
    shared = torch.randn(1, 1, 8).expand(2, 5, 8)
    assert float(L.cosim_loss(shared, shared, centered=False).sum()) == pytest.approx(0.0, abs=1e-5)
    noise_t, noise_i = torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    assert float(L.cosim_loss(shared + 0.01 * noise_t, shared + 0.01 * noise_i).sum()) > 3.0


TORCHVISION_KEYS = {
    "conv1.weight": (64, 3, 7, 7),
    "bn1.running_mean": (64,),
    "layer1.0.conv1.weight": (64, 64, 3, 3),
    "layer2.0.downsample.0.weight": (128, 64, 1, 1),
    "layer2.0.downsample.1.running_var": (128,),
    "layer3.1.bn2.weight": (256,),
    "layer4.1.bn2.num_batches_tracked": (),
    "fc.weight": (1000, 512),
    "fc.bias": (1000,),
}


def test_resnet18_has_torchvision_layout_and_loads_weights_files(tmp_path):
    from safetensors.torch import save_file

    from modeling.encoders.resnet import ResNet18, resnet18

    torch.manual_seed(0)
    src = ResNet18()
    sd = src.state_dict()
    for key, shape in TORCHVISION_KEYS.items():
        assert tuple(sd[key].shape) == shape, key
    assert len(sd) == 122  # torchvision's resnet18 state dict has 122 entries
    assert sum(p.numel() for p in src.parameters()) == 11_689_512  # torchvision resnet18
    torch.save(sd, tmp_path / "resnet18.pth")
    save_file({k: v.contiguous() for k, v in sd.items()}, str(tmp_path / "resnet18.safetensors"))
    x = torch.randn(2, 3, 64, 64)
    src.eval()
    want = src.features(x)
    assert want.shape == (2, 512)
    for name in ("resnet18.pth", "resnet18.safetensors"):
        net = resnet18(str(tmp_path / name)).eval()
        assert torch.allclose(net.features(x), want, atol=1e-5)
    bad = dict(sd)
    bad.pop("fc.bias")
    torch.save(bad, tmp_path / "bad.pth")
    with pytest.raises(RuntimeError, match="fc.bias"):
        resnet18(str(tmp_path / "bad.pth"))


def test_checkpoint_roundtrip(tmp_path):
    from modeling.train import checkpoint

    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 4))
    a[1].weight = a[0].weight  # tied weights are stored once
    opt = torch.optim.Adam(a.parameters(), lr=0.1)
    a(torch.randn(3, 4)).sum().backward()
    opt.step()
    checkpoint.save(str(tmp_path / "ck"), a, opt, {"epoch": 2, "step": 7})
    b = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 4))
    b[1].weight = b[0].weight
    opt_b = torch.optim.Adam(b.parameters(), lr=0.1)
    state = checkpoint.load(str(tmp_path / "ck"), b, opt_b)
    assert state["epoch"] == 2 and state["step"] == 7
    for pa_, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa_, pb)
    sa, sb = opt.state_dict()["state"], opt_b.state_dict()["state"]
    assert torch.equal(sa[0]["exp_avg"], sb[0]["exp_avg"]) and float(sa[0]["step"]) == float(sb[0]["step"])
    checkpoint.save(str(tmp_path / "ck"), b, None, {"epoch": 3, "step": 9})  # overwrite in place
    assert checkpoint.load(str(tmp_path / "ck"), a)["epoch"] == 3
