#!/usr/bin/env python3
"""A plain PyTorch training script, the reference for bench/time-to-accuracy.bench.ts and
bench/parity.bench.ts: `python3 torch_train.py CONFIG.json`.

Trains our graph ModelSpec (built by bench/torch_graph.py) on
- IDX files (`data.kind` 'idx': MNIST-style `*-images-idx3-ubyte[.gz]` / `*-labels-idx1-ubyte[.gz]`,
  train and test files), or
- a pack of ours (`data.kind` 'pack': src/shared/pack.ts, pixels.u8 / labels.i32 / splits.u8),
with pixels / 255 (our preprocessing, src/engine/preprocess.ts), NCHW float32, the softmax
cross-entropy from logits plus l2·Σw² over conv2d / dense kernels (the penalty our engine adds;
not the optimizer's weight_decay, which would also cover biases and batch norm).
Data order: `orderFile` (int32, `epochs` rows of the item indices each epoch visits, e.g. our
engine's seeded shuffles) or else a torch.randperm per epoch seeded with `seed`.
Weights: `weightsFile` (our initial weights, JSON {node: [{shape, data: base64 float32}]}) or
else Keras' initialisers drawn by torch (glorotUniform / heNormal kernels as the spec names them,
zero biases; our engine's defaults, other draws).
Optimizer: {type 'adam', learningRate, beta1, beta2, epsilon} or {type 'momentum', learningRate,
momentum} (v <- m·v + g, w <- w - lr·v, as tf.train.momentum); `learningRates[e]` per epoch.
After each epoch (`evalEachEpoch`, default true; else after the last) the test split is
evaluated (model.eval(): batch-norm moving statistics), outside the training clock. One JSON line per epoch on stdout, then {"event": "done"}.
`stopAt`: stop after the first epoch whose test accuracy reaches it.
"""
import base64
import gzip
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_graph import GraphModel, count_params  # noqa: E402


def read_idx(path):
    """uint8 array of an IDX file (gzipped or not): images [n, h, w] or labels [n]."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    magic, n = int.from_bytes(raw[0:4], "big"), int.from_bytes(raw[4:8], "big")
    if magic == 0x803:
        h, w = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
        return np.frombuffer(raw, dtype=np.uint8, offset=16, count=n * h * w).reshape(n, h, w)
    if magic == 0x801:
        return np.frombuffer(raw, dtype=np.uint8, offset=8, count=n)
    raise ValueError(f"torch_train: {path} is not an IDX file (magic {magic:#x})")


def load_data(d):
    """(x_train uint8 NCHW, y_train, x_test, y_test, item index of each train row or None)."""
    if d["kind"] == "idx":
        xs = [read_idx(d[k]) for k in ("trainImages", "testImages")]
        ys = [read_idx(d[k]).astype(np.int64) for k in ("trainLabels", "testLabels")]
        return torch.from_numpy(xs[0].copy()).unsqueeze(1), torch.from_numpy(ys[0]), torch.from_numpy(xs[1].copy()).unsqueeze(1), torch.from_numpy(ys[1])
    meta = json.load(open(os.path.join(d["dir"], "meta.json")))
    n, h, w, c = meta["count"], meta["height"], meta["width"], meta["channels"]
    px = np.fromfile(os.path.join(d["dir"], "pixels.u8"), dtype=np.uint8).reshape(n, h, w, c)
    lab = np.fromfile(os.path.join(d["dir"], "labels.i32"), dtype="<i4").astype(np.int64)
    sp = np.fromfile(os.path.join(d["dir"], "splits.u8"), dtype=np.uint8)
    x = torch.from_numpy(px.copy()).permute(0, 3, 1, 2).contiguous()
    # Whole pack in the train tensors: the order file names pack item indices.
    test = np.nonzero(sp == 2)[0]
    return x, torch.from_numpy(lab), x[test], torch.from_numpy(lab[test])


def keras_init(model, graph, seed):
    """Kernels as the spec's initializer draws them (Keras definitions), biases 0, BN gamma 1 / beta 0."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for node in graph["nodes"]:
            l = node["layer"]
            key = node["name"].replace(".", "_").replace("/", "_")
            if l["type"] not in ("conv2d", "depthwiseConv2d", "dense"):
                continue
            m = model.mods[key]
            wt = m.weight
            init = l.get("kernelInitializer", l.get("depthwiseInitializer", "glorotUniform"))
            if l["type"] == "dense":
                fan_in, fan_out = wt.shape[1], wt.shape[0]
            elif l["type"] == "conv2d":
                rf = wt.shape[2] * wt.shape[3]
                fan_in, fan_out = wt.shape[1] * rf, wt.shape[0] * rf
            else:  # depthwise kernel [h, w, c, m] in Keras: fan_in h·w·c, fan_out h·w·m
                rf = wt.shape[2] * wt.shape[3]
                mult = wt.shape[0] // m.groups
                fan_in, fan_out = rf * m.groups, rf * mult
            if init == "heNormal":  # N(0, 2/fan_in) truncated at 2σ (tfjs' VarianceScaling 'normal')
                std = math.sqrt(2.0 / fan_in)
                nn.init.trunc_normal_(wt, 0.0, std, -2 * std, 2 * std)
            else:  # U(-a, a), a = sqrt(6 / (fan_in + fan_out))
                a = math.sqrt(6.0 / (fan_in + fan_out))
                nn.init.uniform_(wt, -a, a)
            if m.bias is not None:
                m.bias.zero_()


def load_weights_file(path):
    raw = json.load(open(path))
    return {k: [np.frombuffer(base64.b64decode(w["data"]), dtype=np.float32).reshape(w["shape"]) for w in ws] for k, ws in raw.items()}


def main():
    cfg = json.load(open(sys.argv[1]))
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    t_start = time.perf_counter()
    graph = cfg["graph"]
    x_train, y_train, x_test, y_test = load_data(cfg["data"])
    model = GraphModel(graph)
    if cfg.get("weightsFile"):
        model.load_weights(load_weights_file(cfg["weightsFile"]))
    else:
        keras_init(model, graph, cfg["seed"])
    opt_cfg = cfg["optimizer"]
    if opt_cfg["type"] == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=opt_cfg["learningRate"], betas=(opt_cfg["beta1"], opt_cfg["beta2"]), eps=opt_cfg["epsilon"])
    elif opt_cfg["type"] == "momentum":
        opt = torch.optim.SGD(model.parameters(), lr=opt_cfg["learningRate"], momentum=opt_cfg["momentum"])
    else:
        raise ValueError(f"torch_train: optimizer.type {opt_cfg['type']!r} is not built")
    kernels = model.penalised_kernels()
    l2, batch, epochs = cfg["l2"], cfg["batchSize"], cfg["epochs"]
    order = None
    if cfg.get("orderFile"):
        order = torch.from_numpy(np.fromfile(cfg["orderFile"], dtype="<i4").astype(np.int64)).reshape(epochs, -1)
    gen = torch.Generator().manual_seed(cfg["seed"])
    setup_s = time.perf_counter() - t_start
    print(json.dumps({"event": "ready", "torch": torch.__version__, "threads": torch.get_num_threads(), "params": count_params(model)[0], "trainableParams": count_params(model)[1], "setupSeconds": setup_s}), flush=True)

    def evaluate():
        model.eval()
        correct, loss_sum = 0, 0.0
        with torch.no_grad():
            for i in range(0, len(y_test), 500):
                xb = x_test[i : i + 500].float().div_(255)
                logits = model(xb)
                loss_sum += F.cross_entropy(logits, y_test[i : i + 500], reduction="sum").item()
                correct += (logits.argmax(1) == y_test[i : i + 500]).sum().item()
        model.train()
        return correct / len(y_test), loss_sum / len(y_test)

    train_clock = 0.0
    first_loss = None
    for epoch in range(epochs):
        for group in opt.param_groups:
            group["lr"] = cfg["learningRates"][epoch]
        t0 = time.perf_counter()
        idx = order[epoch] if order is not None else torch.randperm(len(y_train), generator=gen)
        model.train()
        seen, loss_sum, hits = 0, 0.0, 0
        for s in range(0, len(idx), batch):
            b = idx[s : s + batch]
            xb = x_train[b].float().div_(255)
            yb = y_train[b]
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            total = loss + l2 * sum((k * k).sum() for k in kernels) if l2 > 0 else loss
            total.backward()
            opt.step()
            li = loss.item()
            if first_loss is None:
                first_loss = li
            loss_sum += li * len(b)
            hits += (logits.argmax(1) == yb).sum().item()
            seen += len(b)
        epoch_s = time.perf_counter() - t0
        train_clock += epoch_s
        te = time.perf_counter()
        acc, tloss = evaluate() if cfg.get("evalEachEpoch", True) or epoch == epochs - 1 else (None, None)
        rec = {"event": "epoch", "epoch": epoch, "trainLoss": loss_sum / seen, "trainAccuracy": hits / seen, "testAccuracy": acc, "testLoss": tloss, "seconds": epoch_s, "trainSeconds": train_clock, "evalSeconds": time.perf_counter() - te, "firstStepLoss": first_loss}
        print(json.dumps(rec), flush=True)
        if cfg.get("stopAt") is not None and acc is not None and acc >= cfg["stopAt"]:
            break
    print(json.dumps({"event": "done", "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


if __name__ == "__main__":
    main()
