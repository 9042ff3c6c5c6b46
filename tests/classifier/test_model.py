from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from painvision.classifier import create_model, list_models, load_model, save_weights
from painvision.classifier.model import TemporalPainNet
from painvision.errors import InputError, WeightsError
from painvision.features.inputs import N_FEATURES


def test_registry_and_size():
    assert {"tcn_small", "tcn_tiny"} <= set(list_models())
    net = create_model("tcn_small")
    assert net.config["in_features"] == N_FEATURES
    n_bytes = sum(p.numel() * p.element_size() for p in net.parameters())
    assert n_bytes < 1_000_000
    assert 25 <= net.receptive_field <= 75  # 1-3 s at 25 Hz
    with pytest.raises(InputError):
        create_model("resnet")


def test_outputs_are_in_range_and_pspi_is_the_formula():
    torch.manual_seed(0)
    net = create_model("tcn_tiny").eval()
    with torch.no_grad():
        out = net(torch.randn(2, 40, N_FEATURES) * 3)
    for k in ("au4", "au6", "au7", "au9", "au10"):
        assert out[k].shape == (2, 40) and out[k].min() >= 0 and out[k].max() <= 5
    for k in ("au43", "pain_prob"):
        assert out[k].min() >= 0 and out[k].max() <= 1
    formula = (out["au4"] + torch.maximum(out["au6"], out["au7"])
               + torch.maximum(out["au9"], out["au10"]) + out["au43"])
    torch.testing.assert_close(out["pspi"], formula)


@pytest.mark.parametrize("name", ["tcn_tiny", "tcn_small"])
def test_streaming_equals_offline(name, device):
    torch.manual_seed(1)
    net = create_model(name).to(device).eval()
    x = torch.randn(3, 150, N_FEATURES, device=device)
    with torch.no_grad():
        offline = net(x)
        state = net.init_state(3)
        steps = []
        for t in range(x.shape[1]):
            out, state = net.step(x[:, t], state)
            steps.append(torch.stack([out["pspi"], out["pain_prob"], out["au43"]], -1))
    online = torch.stack(steps, 1)
    expected = torch.stack([offline["pspi"], offline["pain_prob"], offline["au43"]], -1)
    torch.testing.assert_close(online, expected, atol=1e-5, rtol=1e-5)


def test_causal_future_frames_do_not_change_the_past():
    torch.manual_seed(2)
    net = create_model("tcn_tiny").eval()
    x = torch.randn(1, 80, N_FEATURES)
    y = x.clone()
    y[:, 60:] += 5.0
    with torch.no_grad():
        a, b = net(x)["pspi"], net(y)["pspi"]
    torch.testing.assert_close(a[:, :60], b[:, :60])
    assert not torch.allclose(a[:, 60:], b[:, 60:])


def test_weights_round_trip(tmp_path):
    net = create_model("tcn_tiny").eval()
    path = save_weights(tmp_path / "w.pt", net, {"name": "t"})
    loaded, config = load_model(path)
    assert config["info"]["name"] == "t" and config["model"] == net.config
    x = torch.randn(1, 30, N_FEATURES)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)["pspi"], net(x)["pspi"])


class _Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_safe_loading_refuses_pickled_objects(tmp_path, capsys):
    evil = tmp_path / "evil.pt"
    torch.save({"config": "{}", "state_dict": {}, "x": _Payload()}, evil)
    with pytest.raises(WeightsError, match="refusing"):
        load_model(evil)
    assert "must never run" not in capsys.readouterr().out
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps(_Payload()))
    with pytest.raises(WeightsError):
        load_model(plain)
    with pytest.raises(WeightsError, match="no such file"):
        load_model(tmp_path / "missing.pt")
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(WeightsError, match="not a painvision weights file"):
        load_model(other)
    evidence = tmp_path / "ward.json"  # pain-evidence weights, given to the model
    evidence.write_text('{"channels": []}\n')
    with pytest.raises(WeightsError, match="--scorer combined"):
        load_model(evidence)


def test_mismatched_weights_are_refused(tmp_path):
    from painvision.classifier.scorer import ModelScorer

    path = save_weights(tmp_path / "w.pt", TemporalPainNet(in_features=12, hidden=8, depth=2))
    with pytest.raises(WeightsError, match="features per frame"):
        ModelScorer(path, "cpu")


def test_features_gaps_are_zeroed():
    from painvision.features.baseline import Baseline
    from painvision.features.geometry import SIGNAL_NAMES
    from painvision.features.inputs import Neutral, model_features
    from painvision.landmarks.pose import load_template

    tpl = load_template()
    aligned = np.repeat(tpl[None], 4, axis=0)
    aligned[2] = np.nan
    sig = np.zeros((4, len(SIGNAL_NAMES)), np.float32)
    valid = np.array([True, True, False, True])
    neutral = Neutral(Baseline(np.zeros(len(SIGNAL_NAMES), np.float32), "neutral_range", 4), tpl)
    f = model_features(aligned, sig, np.zeros((4, 3), np.float32), valid,
                       np.array([0.0, 0.04, 0.08, 0.2]), neutral)
    assert f.shape == (4, N_FEATURES) and np.isfinite(f).all()
    assert (f[2, :-1] == 0).all()
    np.testing.assert_allclose(f[:, -1], [1.0, 1.0, 1.0, 3.0], atol=1e-5)  # frame intervals
    assert f[0, -2] == 1.0 and f[2, -2] == 0.0  # face-present column
