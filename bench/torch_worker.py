#!/usr/bin/env python3
"""Benchmark worker for PyTorch (the reference engine), one process per model.

Builds the same graph as our ModelSpec (bench/models.ts; the nodes of toGraph, sent by our
worker) in PyTorch node by node with bench/torch_graph.py's GraphModel (layouts, 'same'
padding, NHWC flatten order, batch-norm momentum and epsilon: see there), loads our initial
weights by their tfjs names (`node/kernel`, ...; GraphModel.set_weight), trains with Adam and the
same epsilon or SGD with momentum, the cross-entropy from logits plus l2 * sum(w^2) over conv/dense kernels (the
penalty our engine adds; not Adam's weight_decay, which also covers biases and batch
norm). JSON-lines commands on stdin: init, check, train, infer, mem, export_onnx.
"""
import base64
import copy
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_graph import GraphModel  # noqa: E402


def f32(b64, shape):
    return np.frombuffer(base64.b64decode(b64), dtype=np.float32).reshape(shape).copy()


def b64(t):
    return base64.b64encode(t.detach().cpu().numpy().astype(np.float32).tobytes()).decode()


class Engine:
    def __init__(self):
        self.model = None

    def make(self, graph, spec, training, weights, float64=False):
        """GraphModel of `graph` (nodes, output) on `spec["inputShape"]` with our `weights`
        ([{name, shape, data b64 float32}], the trainable ones) and its optimizer, on self.device (in float64 when asked).
        @raises ValueError when a weight has no counterpart or a parameter gets none."""
        model = GraphModel({**graph, "inputShape": spec["inputShape"]})
        for wt in weights:
            model.set_weight(wt["name"], f32(wt["data"], wt["shape"]))
        n = sum(1 for _ in model.parameters())
        if len(weights) != n:
            raise ValueError(f"torch worker: {n} parameters built, {len(weights)} weights given")
        model = model.to(self.device)
        if float64:
            model = model.double()
        if training.get("optimizer") == "momentum":
            opt = torch.optim.SGD(model.parameters(), lr=training["learningRate"], momentum=training["momentum"])
        else:
            opt = torch.optim.Adam(model.parameters(), lr=training["learningRate"], betas=(training["beta1"], training["beta2"]), eps=training["epsilon"])
        return model, opt

    def step_fn(self, model, opt, kernels, l2, x=None):
        x, y = self.x if x is None else x, self.y

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
            self.spec, self.graph, self.training, self.weights = cmd["spec"], cmd["graph"], cmd["training"], cmd["weights"]
            hh, ww, cc = self.spec["inputShape"]
            self.x = torch.from_numpy(f32(cmd["x"], [-1, hh, ww, cc])).permute(0, 3, 1, 2).contiguous().to(self.device)
            self.y = torch.tensor(cmd["y"], dtype=torch.long, device=self.device)
            self.model, self.opt = self.make(self.graph, self.spec, self.training, self.weights)
            self.model.train()
            self.step = self.step_fn(self.model, self.opt, self.model.penalised_kernels(), self.training["l2"])
            return {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": self.device}
        if c == "check":
            graph = copy.deepcopy(self.graph)
            for n in graph["nodes"]:
                if n["layer"]["type"] == "dropout":
                    n["layer"]["rate"] = 0.0
            # float64: the same steps in double precision, the reference both float32 engines are measured
            # against when they disagree (bench/engine.bench.ts).
            f64 = bool(cmd.get("float64"))
            model, opt = self.make(graph, self.spec, cmd["training"], self.weights, f64)
            x = self.x.double() if f64 else self.x
            model.train()
            step = self.step_fn(model, opt, model.penalised_kernels(), cmd["training"]["l2"], x)
            losses = [step() for _ in range(cmd["steps"])]
            out = [{"shape": wt["shape"], "data": b64(model.get_weight(wt["name"]))} for wt in self.weights]
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
