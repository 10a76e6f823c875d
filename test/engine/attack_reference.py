"""Reference for test/engine/attack-torch.test.ts: FGSM (Goodfellow et al. 2015) and PGD with a
given random start (Madry et al. 2018) in PyTorch, on our graph built by bench/torch_graph.py
with our weights copied in, written from the papers independently of src/engine/attack.ts.

stdin JSON: {graph, weights {node: [{shape, data b64 float32}]}, x: b64 float32 NHWC [n, h, w, c]
in [0, 1], labels: [n], epsilons: [input units], steps: K, stepSizes: [α per ε], starts:
[b64 float32 NHWC u ∈ [-1, 1] per ε]} → stdout JSON {fgsm: [[pred per image] per ε], pgd: [...]}.
Loss: F.cross_entropy on logits (softmax cross-entropy, summed over the batch), model in eval mode.
"""
import base64
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from torch_graph import GraphModel  # noqa: E402


def f32(s, shape):
    return np.frombuffer(base64.b64decode(s), dtype=np.float32).reshape(shape)


def input_grad(model, x, y):
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y, reduction="sum")
    (g,) = torch.autograd.grad(loss, x)
    return g


def fgsm(model, x, y, eps):
    return (x + eps * input_grad(model, x, y).sign()).clamp(0.0, 1.0)


def pgd(model, x, y, eps, steps, alpha, u):
    lo = (x - eps).clamp(min=0.0)
    hi = (x + eps).clamp(max=1.0)
    adv = (x + eps * u).clamp(0.0, 1.0)
    for _ in range(steps):
        adv = torch.min(torch.max(adv + alpha * input_grad(model, adv, y).sign(), lo), hi)
    return adv


def main():
    torch.set_num_threads(1)
    req = json.load(sys.stdin)
    model = GraphModel(req["graph"])
    model.load_weights({k: [f32(w["data"], w["shape"]) for w in ws] for k, ws in req["weights"].items()})
    model.eval()
    n = len(req["labels"])
    h, w, c = req["graph"]["inputShape"]
    nchw = lambda s: torch.from_numpy(f32(s, (n, h, w, c)).copy()).permute(0, 3, 1, 2).contiguous()
    x = nchw(req["x"])
    y = torch.tensor(req["labels"], dtype=torch.long)
    def pred(a):
        with torch.no_grad():
            return model(a).argmax(1).tolist()

    out = {"fgsm": [], "pgd": []}
    for eps, alpha, start in zip(req["epsilons"], req["stepSizes"], req["starts"]):
        out["fgsm"].append(pred(fgsm(model, x, y, eps)) if eps > 0 else pred(x))
        out["pgd"].append(pred(pgd(model, x, y, eps, req["steps"], alpha, nchw(start))) if eps > 0 else pred(x))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
