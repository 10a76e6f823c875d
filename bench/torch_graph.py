"""Our graph ModelSpec (src/shared/layers.ts), built node by node in PyTorch, for the benchmarks.

Input: the graph as src/shared/graph.ts `toGraph` gives it (JSON): {inputShape [h, w, c],
numClasses, nodes: [{name, layer, inputs}], output}; tensors NCHW inside, the layers' configs
in our (Keras / TF.js) terms:
- conv2d / depthwiseConv2d: 'same' padded as TensorFlow pads (total max((ceil(n/s) - 1)·s + k - n, 0),
  the smaller half before), activation after; depthwise = grouped conv, channel c·m + j.
- maxPooling2d / averagePooling2d ('valid', or 'same' as TensorFlow: pads not counted in the mean),
  global pooling, zeroPadding2d, flatten in NHWC order (so dense weights match ours row for row),
  dense, dropout, batchNormalization (PyTorch momentum = 1 - Keras momentum), activation
  (relu relu6 elu leakyRelu tanh sigmoid linear), add, concatenate (channels).
Weights: `load_weights` copies ours in per node (tfjs order, see its docstring); `set_weight` /
`get_weight` take one by its tfjs name (`node/kernel`, `node/depthwise_kernel`, `node/bias`,
`node/gamma`, `node/beta`, `node/moving_mean`, `node/moving_variance`) in our layout (conv HWIO ↔
OIHW, depthwise [h, w, c, m] ↔ [c·m, 1, h, w] with groups = c, dense [in, out] ↔ [out, in]).
The modules are looked up at forward time, so `copy.deepcopy` of a model is a separate model
(bench/torch_worker.py exports such a copy to ONNX); symmetric 'same' pads go into the
convolution itself, asymmetric ones (stride 2 on even sizes) are an explicit pad before it.
The one PyTorch translator of our graphs: used by bench/torch_train.py (parity,
time-to-accuracy) and bench/torch_worker.py (the engine bench and its correctness gate).
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def _act(name, alpha=None):
    if name in (None, "linear"):
        return None
    return {
        "relu": F.relu,
        "relu6": F.relu6,
        "elu": F.elu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "leakyRelu": lambda x: F.leaky_relu(x, 0.3 if alpha is None else alpha),
    }[name]


def _same_pads(n, k, s):
    """TensorFlow 'same' padding of one dimension: (before, after)."""
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _out(n, k, s, pad):
    return math.ceil(n / s) if pad == "same" else (n - k) // s + 1


class GraphModel(nn.Module):
    """nn.Module running the nodes in order; `shapes[name]` is each node's NHWC output shape (no batch)."""

    def __init__(self, graph):
        super().__init__()
        self.graph = graph
        self.order = []  # (name, module key, layer type, input names, fn(inputs list, module or None) -> tensor)
        self.mods = nn.ModuleDict()
        h, w, c = graph["inputShape"]
        self.shapes = {"input": (h, w, c)}
        for node in graph["nodes"]:
            self._add(node)
        self.output = graph.get("output") or graph["nodes"][-1]["name"]

    def _add(self, node):
        name, l, ins = node["name"], node["layer"], node["inputs"]
        t = l["type"]
        shp = [self.shapes[i] for i in ins]
        s0 = shp[0]
        key = name.replace(".", "_").replace("/", "_")
        fn, out = None, None
        if t in ("conv2d", "depthwiseConv2d"):
            h, w, c = s0
            k, st, pad = l["kernelSize"], l.get("strides", 1), l.get("padding", "valid")
            left, right, top, bottom = pads = _same_pads(w, k, st) + _same_pads(h, k, st) if pad == "same" else (0, 0, 0, 0)
            # Symmetric: the convolution's own padding; else an explicit pad (F.pad, exported to ONNX as Pad).
            sym = (left, top) == (right, bottom)
            oc = l["filters"] if t == "conv2d" else c * l.get("depthMultiplier", 1)
            groups = 1 if t == "conv2d" else c
            self.mods[key] = nn.Conv2d(c, oc, k, stride=st, padding=(top, left) if sym else 0, groups=groups, bias=l.get("useBias", True))
            act = _act(l.get("activation", "relu" if t == "conv2d" else "linear"))
            pads = None if sym else pads

            def fn(xs, mod, pads=pads, act=act):
                y = mod(F.pad(xs[0], pads) if pads else xs[0])
                return act(y) if act else y

            out = (_out(h, k, st, pad), _out(w, k, st, pad), oc)
        elif t in ("maxPooling2d", "averagePooling2d"):
            h, w, c = s0
            p = l.get("poolSize", 2)
            st = l.get("strides") or p
            pad = l.get("padding", "valid")
            pads = _same_pads(w, p, st) + _same_pads(h, p, st) if pad == "same" else (0, 0, 0, 0)
            if t == "maxPooling2d":
                def fn(xs, _mod, p=p, st=st, pads=pads):
                    x = F.pad(xs[0], pads, value=-math.inf) if any(pads) else xs[0]
                    return F.max_pool2d(x, p, st)
            else:
                def fn(xs, _mod, p=p, st=st, pads=pads):
                    if not any(pads):
                        return F.avg_pool2d(xs[0], p, st)
                    # TensorFlow's 'same' average leaves the padding out of the count.
                    ones = torch.ones_like(xs[0][:1, :1])
                    return F.avg_pool2d(F.pad(xs[0], pads), p, st, divisor_override=1) / F.avg_pool2d(F.pad(ones, pads), p, st, divisor_override=1)
            out = (_out(h, p, st, pad), _out(w, p, st, pad), c)
        elif t == "globalAveragePooling2d":
            fn = lambda xs, _mod: xs[0].mean(dim=(2, 3))
            out = (s0[2],)
        elif t == "globalMaxPooling2d":
            fn = lambda xs, _mod: xs[0].amax(dim=(2, 3))
            out = (s0[2],)
        elif t == "zeroPadding2d":
            p = l.get("padding", 1)
            (top, bottom), (left, right) = ((p, p), (p, p)) if isinstance(p, int) else (((p[0], p[0]), (p[1], p[1])) if isinstance(p[0], int) else p)
            fn = lambda xs, _mod, q=(left, right, top, bottom): F.pad(xs[0], q)
            out = (s0[0] + top + bottom, s0[1] + left + right, s0[2])
        elif t == "flatten":
            fn = lambda xs, _mod: xs[0].permute(0, 2, 3, 1).reshape(xs[0].shape[0], -1) if xs[0].dim() == 4 else xs[0]
            out = (int(np.prod(s0)),)
        elif t == "dense":
            if len(s0) != 1:
                raise ValueError(f"torch_graph: node {name!r} (dense) takes a vector, got shape {s0}")
            self.mods[key] = nn.Linear(s0[0], l["units"], bias=l.get("useBias", True))
            act = _act(l.get("activation", "linear"))
            fn = lambda xs, mod, act=act: act(mod(xs[0])) if act else mod(xs[0])
            out = (l["units"],)
        elif t == "dropout":
            self.mods[key] = nn.Dropout(l["rate"])
            fn = lambda xs, mod: mod(xs[0])
            out = s0
        elif t == "batchNormalization":
            cls = nn.BatchNorm2d if len(s0) == 3 else nn.BatchNorm1d
            self.mods[key] = cls(s0[-1], eps=l.get("epsilon", 1e-3), momentum=1 - l.get("momentum", 0.99))
            fn = lambda xs, mod: mod(xs[0])
            out = s0
        elif t == "activation":
            act = _act(l["activation"], l.get("alpha"))
            fn = (lambda xs, _mod, act=act: act(xs[0])) if act else (lambda xs, _mod: xs[0])
            out = s0
        elif t == "add":
            def fn(xs, _mod):
                y = xs[0]
                for x in xs[1:]:
                    y = y + x
                return y
            out = s0
        elif t == "concatenate":
            fn = lambda xs, _mod: torch.cat(xs, dim=1)
            out = s0[:-1] + (sum(s[-1] for s in shp),)
        else:
            raise ValueError(f"torch_graph: node {name!r}: layer type {t!r} is not built")
        self.shapes[name] = tuple(out)
        self.order.append((name, key, t, ins, fn))

    def forward(self, x):
        """x: float32 [n, c, h, w] (NCHW) → the output node's tensor (logits [n, classes])."""
        vals = {"input": x}
        for name, key, _, ins, fn in self.order:
            vals[name] = fn([vals[i] for i in ins], self.mods[key] if key in self.mods else None)
        return vals[self.output]

    def penalised_kernels(self):
        """The kernels our engine's L2 penalty covers: conv2d and dense (not depthwise, biases, batch norm)."""
        return [self.mods[key].weight for _, key, t, _, _ in self.order if t in ("conv2d", "dense")]

    def _weights_of(self, name, t, key):
        """[(tfjs weight name, PyTorch tensor)] of one node, in tfjs order ([] for a node without weights)."""
        if t not in _WEIGHTS:
            return []
        mod = self.mods[key]
        return [(wn, getattr(mod, attr)) for wn, attr in _WEIGHTS[t] if getattr(mod, attr) is not None]

    def _node_weight(self, weight_name):
        """tfjs weight name ("node/kernel") → (layer type, tfjs weight name, PyTorch tensor, module).
        @raises ValueError naming the weight when the graph has no such node or weight."""
        node, _, wn = weight_name.rpartition("/")
        for name, key, t, _, _ in self.order:
            if name == node:
                for n, p in self._weights_of(name, t, key):
                    if n == wn:
                        return t, wn, p, self.mods[key]
        raise ValueError(f"torch_graph: weight {weight_name!r} has no PyTorch counterpart in the graph")

    def set_weight(self, weight_name, array):
        """Copy one of our weights in by its tfjs name ("node/kernel", "node/gamma", ...), `array` in our
        layout (float32 numpy, shape as tfjs gives it). @raises ValueError naming the weight (unknown
        name, or a shape that does not fit)."""
        t, wn, p, _ = self._node_weight(weight_name)
        array = np.ascontiguousarray(array, dtype=np.float32)
        a = _to_torch(t, wn, torch.from_numpy(array)) if array.ndim == p.dim() else None
        if a is None or tuple(p.shape) != tuple(a.shape):
            raise ValueError(f"torch_graph: weight {weight_name!r}: {tuple(array.shape)} does not fit PyTorch's {tuple(p.shape)}")
        with torch.no_grad():
            p.copy_(a)

    def get_weight(self, weight_name):
        """One weight by its tfjs name, back in our layout: a detached contiguous tensor on the model's
        device. @raises ValueError naming the weight when unknown."""
        t, wn, p, mod = self._node_weight(weight_name)
        return _from_torch(t, wn, p.detach(), mod.groups if t == "depthwiseConv2d" else 1).contiguous()

    def load_weights(self, weights):
        """Copy our weights in: `weights[name]` = list of float32 numpy arrays in tfjs order and layout:
        conv2d [kernel HWIO, bias]; depthwiseConv2d [kernel H,W,C,M, bias]; dense [kernel [in, out], bias];
        batchNormalization [gamma, beta, moving_mean, moving_variance].
        @raises ValueError naming the node when weights are missing or a shape does not fit."""
        for name, key, t, _, _ in self.order:
            slots = self._weights_of(name, t, key)
            if not slots:
                continue
            if name not in weights or len(weights[name]) != len(slots):
                got = "none" if name not in weights else len(weights[name])
                raise ValueError(f"torch_graph: node {name!r} ({t}) takes {len(slots)} weights, {got} given")
            for (wn, _), a in zip(slots, weights[name]):
                self.set_weight(f"{name}/{wn}", a)


# Per layer type: (tfjs weight name, attribute of the PyTorch module), in tfjs order.
_WEIGHTS = {
    "conv2d": [("kernel", "weight"), ("bias", "bias")],
    "depthwiseConv2d": [("depthwise_kernel", "weight"), ("bias", "bias")],
    "dense": [("kernel", "weight"), ("bias", "bias")],
    "batchNormalization": [("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"), ("moving_variance", "running_var")],
}


def _to_torch(t, wn, a):
    """Our layout → PyTorch's: conv HWIO → OIHW, depthwise [h, w, c, m] → [c·m, 1, h, w], dense [in, out] → [out, in]."""
    if t == "conv2d" and wn == "kernel":
        return a.permute(3, 2, 0, 1)
    if t == "depthwiseConv2d" and wn == "depthwise_kernel":
        kh, kw, c, m = a.shape
        return a.reshape(kh, kw, c * m).permute(2, 0, 1).unsqueeze(1)
    if t == "dense" and wn == "kernel":
        return a.t()
    return a


def _from_torch(t, wn, p, groups):
    """The inverse of _to_torch (a depthwise kernel [c·m, 1, h, w] → [h, w, c, m], c = `groups`)."""
    if t == "conv2d" and wn == "kernel":
        return p.permute(2, 3, 1, 0)
    if t == "depthwiseConv2d" and wn == "depthwise_kernel":
        cm, _, kh, kw = p.shape
        return p.squeeze(1).permute(1, 2, 0).reshape(kh, kw, groups, cm // groups)
    if t == "dense" and wn == "kernel":
        return p.t()
    return p


def count_params(model):
    """Parameters as describeModel counts them (Keras' total): the trainable ones plus the
    batch-norm moving mean and variance. @returns (total, trainable)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    stats = sum(m.running_mean.numel() + m.running_var.numel() for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))
    return trainable + stats, trainable


def _forward_main():
    """`python3 torch_graph.py forward` (for test/scripts/torch-graph.test.ts): stdin JSON {graph, weights
    {node: [{shape, data b64 float32}]}, x: b64 float32 NHWC, n} → stdout JSON {logits: b64 float32 [n, classes]},
    in inference mode (batch-norm moving statistics)."""
    import base64
    import json
    import sys

    req = json.load(sys.stdin)
    f32 = lambda w: np.frombuffer(base64.b64decode(w["data"]), dtype=np.float32).reshape(w["shape"])
    model = GraphModel(req["graph"])
    model.load_weights({k: [f32(w) for w in ws] for k, ws in req["weights"].items()})
    h, w, c = req["graph"]["inputShape"]
    x = torch.from_numpy(np.frombuffer(base64.b64decode(req["x"]), dtype=np.float32).reshape(req["n"], h, w, c).copy()).permute(0, 3, 1, 2)
    model.eval()
    with torch.no_grad():
        y = model(x).numpy().astype(np.float32)
    json.dump({"logits": base64.b64encode(y.tobytes()).decode(), "params": count_params(model)[0]}, sys.stdout)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["forward"]:
        _forward_main()
    else:
        sys.exit("usage: torch_graph.py forward < request.json")
