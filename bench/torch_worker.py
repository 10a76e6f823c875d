#!/usr/bin/env python3
"""Benchmark worker for PyTorch (the reference engine), one process per model.

Builds the same layer list as our ModelSpec (bench/models.ts) in PyTorch, loads our
initial weights (HWIO kernels -> OIHW, dense [in, out] -> [out, in]; the first dense layer
sees the features flattened in NHWC order, as ours), trains with Adam and the same
epsilon, the cross-entropy from logits plus l2 * sum(w^2) over conv/dense kernels (the
penalty our engine adds; not Adam's weight_decay, which also covers biases and batch
norm). JSON-lines commands on stdin: init, check, train, infer, mem, export_onnx.
"""
import base64
import copy
import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def f32(b64, shape):
    return np.frombuffer(base64.b64decode(b64), dtype=np.float32).reshape(shape).copy()


def b64(t):
    return base64.b64encode(t.detach().cpu().numpy().astype(np.float32).tobytes()).decode()


class NhwcFlatten(nn.Module):
    """Flatten an NCHW tensor in NHWC order, so dense weights match ours row for row."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1) if x.dim() == 4 else x


def build(spec):
    """nn.Sequential from our ModelSpec; returns (model, params in our trainable-weight order, penalised kernels)."""
    h, w, c = spec["inputShape"]
    layers, order, kernels = [], [], []
    rank = 3
    for l in spec["layers"]:
        t = l["type"]
        if t == "conv2d":
            k, s = l["kernelSize"], l.get("strides", 1)
            pad = l.get("padding", "valid")
            if pad == "same" and s != 1:
                raise ValueError("torch worker: 'same' padding with stride > 1 is not built")
            # 'same' at stride 1 as TensorFlow pads: (k - 1) // 2 before, the rest after (an
            # explicit pad rather than padding="same", which ONNX export does not take).
            before, after = ((k - 1) // 2, k - 1 - (k - 1) // 2) if pad == "same" else (0, 0)
            if before != after:
                layers.append(nn.ZeroPad2d((before, after, before, after)))
            conv = nn.Conv2d(c, l["filters"], k, stride=s, padding=before if before == after else 0, bias=l.get("useBias", True))
            layers.append(conv)
            order += [("conv_kernel", conv.weight)] + ([("bias", conv.bias)] if conv.bias is not None else [])
            kernels.append(conv.weight)
            c = l["filters"]
            if l.get("activation", "relu") == "relu":
                layers.append(nn.ReLU())
        elif t == "maxPooling2d":
            p = l.get("poolSize", 2)
            layers.append(nn.MaxPool2d(p, l.get("strides") or p))
        elif t == "batchNormalization":
            bn = nn.BatchNorm2d(c, eps=l["epsilon"], momentum=1 - l["momentum"]) if rank == 3 else nn.BatchNorm1d(c, eps=l["epsilon"], momentum=1 - l["momentum"])
            layers.append(bn)
            order += [("vector", bn.weight), ("vector", bn.bias)]
        elif t == "activation":
            layers.append({"relu": nn.ReLU(), "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid(), "linear": nn.Identity()}[l["activation"]])
        elif t == "dropout":
            layers.append(nn.Dropout(l["rate"]))
        elif t in ("flatten", "dense"):
            if rank == 3:
                layers.append(NhwcFlatten())
                # nn.LazyLinear infers the flattened width; c is only used for BatchNorm1d after a dense layer
                rank = 1
            if t == "dense":
                layers.append(nn.LazyLinear(l["units"], bias=l.get("useBias", True)))
                order += [("dense_kernel", layers[-1])] + ([("bias_of", layers[-1])] if l.get("useBias", True) else [])
                if l.get("activation", "linear") == "relu":
                    layers.append(nn.ReLU())
                c = l["units"]
    model = nn.Sequential(*layers)
    return model, order, kernels


class Engine:
    def __init__(self):
        self.model = None

    def make(self, spec, training, weights):
        model, order, kernels = build(spec)
        hh, ww, cc = spec["inputShape"]
        with torch.no_grad():
            model(torch.zeros(1, cc, hh, ww))  # materialise the lazy dense layers
        params, kernels = [], []
        for (kind, p), wt in zip(order, weights):
            a = torch.from_numpy(f32(wt["data"], wt["shape"]))
            with torch.no_grad():
                if kind == "conv_kernel":
                    p.copy_(a.permute(3, 2, 0, 1)); params.append(p); kernels.append(p)
                elif kind == "dense_kernel":
                    p.weight.copy_(a.t()); params.append(p.weight); kernels.append(p.weight)
                elif kind == "bias_of":
                    p.bias.copy_(a); params.append(p.bias)
                else:
                    p.copy_(a); params.append(p)
        if len(order) != len(weights):
            raise ValueError(f"torch worker: {len(order)} parameters built, {len(weights)} given")
        model = model.to(self.device)
        opt = torch.optim.Adam(model.parameters(), lr=training["learningRate"], betas=(training["beta1"], training["beta2"]), eps=training["epsilon"])
        return model, opt, params, kernels

    def step_fn(self, model, opt, kernels, l2):
        x, y = self.x, self.y

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            total = loss + l2 * sum((k * k).sum() for k in kernels) if l2 > 0 else loss
            total.backward()
            opt.step()
            return loss.item()

        return step

    def handle(self, cmd):
        c = cmd["cmd"]
        if c == "init":
            torch.set_num_threads(cmd["threads"])
            self.device = "cuda" if cmd.get("gpu") and torch.cuda.is_available() else "cpu"
            self.spec, self.training, self.weights = cmd["spec"], cmd["training"], cmd["weights"]
            hh, ww, cc = self.spec["inputShape"]
            self.x = torch.from_numpy(f32(cmd["x"], [-1, hh, ww, cc])).permute(0, 3, 1, 2).contiguous().to(self.device)
            self.y = torch.tensor(cmd["y"], dtype=torch.long, device=self.device)
            self.model, self.opt, _, kernels = self.make(self.spec, self.training, self.weights)
            self.model.train()
            self.step = self.step_fn(self.model, self.opt, kernels, self.training["l2"])
            return {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": self.device}
        if c == "check":
            spec = copy.deepcopy(self.spec)
            for l in spec["layers"]:
                if l["type"] == "dropout":
                    l["rate"] = 0.0
            model, opt, params, kernels = self.make(spec, cmd["training"], self.weights)
            model.train()
            step = self.step_fn(model, opt, kernels, cmd["training"]["l2"])
            losses = [step() for _ in range(cmd["steps"])]
            out = []
            for (kind, _), p in zip(build(spec)[1], params):
                t = p.detach()
                if kind == "conv_kernel":
                    t = t.permute(2, 3, 1, 0)
                elif kind == "dense_kernel":
                    t = t.t()
                out.append({"shape": list(t.shape), "data": b64(t.contiguous())})
            return {"losses": losses, "weights": out}
        if c in ("train", "infer"):
            if c == "infer":
                self.model.eval()
            times = []
            for _ in range(cmd["steps"]):
                t0 = time.perf_counter()
                if c == "train":
                    self.step()
                else:
                    with torch.no_grad():
                        self.model(self.x).cpu()
                if self.device == "cuda":
                    torch.cuda.synchronize()
                times.append((time.perf_counter() - t0) * 1000)
            self.model.train()
            return {"times": times}
        if c == "mem":
            return {"peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        if c == "export_onnx":
            # Inference graph (batch-norm running statistics, dropout off), NCHW input as
            # ONNX Runtime expects; batch dimension fixed at the benchmark's batch.
            m = copy.deepcopy(self.model).cpu().eval()
            torch.onnx.export(m, self.x[:1].cpu().repeat(self.x.shape[0], 1, 1, 1), cmd["path"], input_names=["x"], output_names=["logits"], opset_version=13)
            return {"path": cmd["path"]}
        raise ValueError(f"unknown command {c}")


def main():
    eng = Engine()
    for line in sys.stdin:
        try:
            reply = eng.handle(json.loads(line))
        except Exception as e:  # reported to the orchestrator, which fails the benchmark
            import traceback

            reply = {"error": traceback.format_exc()}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
