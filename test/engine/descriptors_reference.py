"""Reference for test/engine/descriptors.test.ts: the hand-crafted descriptors of
src/engine/descriptors/ computed by scikit-image (HoG, LBP codes) and numpy (colour
histogram, dominant colours, LBP grid histograms), written independently of our code.

stdin JSON: {images: [{name, width, height, channels (1|3), pixels: b64 uint8 HWC}],
specs: [DescriptorSpec as in src/shared/descriptors.ts]}
→ stdout JSON {skimage: version, greyVsRgb2gray: max |grey − rgb2gray| over the RGB images,
results: {name: [{vector: [float], codes?: [int]} per spec]}}.

Grey for HoG and LBP: rgb2gray's formula (0.2125 R + 0.7154 G + 0.0721 B on img_as_float
values) evaluated elementwise, R + G + B left to right: rgb2gray itself sums through BLAS,
whose order (and so the last bit) varies by machine, and a 1-ulp change can flip an LBP
comparison in a flat area. Its distance to rgb2gray is reported; img_as_float for one channel.
HoG: skimage.feature.hog(grey, orientations, (ppc, ppc), (cpb, cpb), block_norm,
feature_vector=True). LBP: skimage.feature.local_binary_pattern(grey, P, R, method), then
per cell of a g × g grid (cell i: rows (i·H)//g … ((i+1)·H)//g − 1) the codes' counts /
cell pixels, bins P + 2 ('uniform') or 2^P ('default').
"""
import base64
import json
import sys

import numpy as np
import skimage
from skimage.color import rgb2gray
from skimage.feature import hog, local_binary_pattern
from skimage.util import img_as_float


def grey_of(img):
    f = img_as_float(img)
    return f if img.ndim == 2 else f[..., 0] * 0.2125 + f[..., 1] * 0.7154 + f[..., 2] * 0.0721


def color_histogram(img, bins):
    chans = img.reshape(img.shape[0], img.shape[1], -1)
    n = chans.shape[0] * chans.shape[1]
    parts = [np.histogram(chans[:, :, c], bins=bins, range=(0, 256))[0] / n for c in range(chans.shape[2])]
    return np.concatenate(parts)


def dominant_colors(img, count, bins):
    chans = img.reshape(-1, 1 if img.ndim == 2 else img.shape[2]).astype(np.int64)
    q = (chans * bins) // 256
    codes = np.zeros(len(q), dtype=np.int64)
    for c in range(q.shape[1]):
        codes = codes * bins + q[:, c]
    uniq, counts = np.unique(codes, return_counts=True)
    order = uniq[np.lexsort((uniq, -counts))]
    out = []
    for k in range(count):
        code = order[min(k, len(order) - 1)]
        digits = []
        for _ in range(q.shape[1]):
            digits.append(code % bins)
            code //= bins
        out.extend((d + 0.5) / bins for d in reversed(digits))
    return np.array(out)


def lbp_grid(codes, g, n_bins):
    h, w = codes.shape
    rows = (np.arange(g + 1) * h) // g
    cols = (np.arange(g + 1) * w) // g
    out = []
    for i in range(g):
        for j in range(g):
            cell = codes[rows[i]:rows[i + 1], cols[j]:cols[j + 1]].astype(np.int64).ravel()
            out.append(np.bincount(cell, minlength=n_bins)[:n_bins] / cell.size)
    return np.concatenate(out)


def compute(img, spec):
    t = spec["type"]
    if t == "colorHistogram":
        return {"vector": color_histogram(img, spec["bins"])}
    if t == "dominantColors":
        return {"vector": dominant_colors(img, spec["count"], spec["bins"])}
    grey = grey_of(img)
    if t == "hog":
        ppc, cpb = spec["pixelsPerCell"], spec["cellsPerBlock"]
        v = hog(grey, orientations=spec["orientations"], pixels_per_cell=(ppc, ppc),
                cells_per_block=(cpb, cpb), block_norm=spec["blockNorm"], feature_vector=True)
        return {"vector": v}
    if t == "lbp":
        p = spec["points"]
        codes = local_binary_pattern(grey, p, spec["radius"], spec["method"])
        n_bins = p + 2 if spec["method"] == "uniform" else 2 ** p
        return {"vector": lbp_grid(codes, spec["gridCells"], n_bins), "codes": codes.astype(np.int64).ravel()}
    raise ValueError(f"unknown descriptor type {t}")


def main():
    req = json.load(sys.stdin)
    results = {}
    grey_diff = 0.0
    for im in req["images"]:
        px = np.frombuffer(base64.b64decode(im["pixels"]), dtype=np.uint8)
        shape = (im["height"], im["width"]) if im["channels"] == 1 else (im["height"], im["width"], im["channels"])
        img = px.reshape(shape)
        if img.ndim == 3:
            grey_diff = max(grey_diff, float(np.abs(grey_of(img) - rgb2gray(img)).max()))
        rows = []
        for spec in req["specs"]:
            r = compute(img, spec)
            row = {"vector": [float(x) for x in r["vector"]]}
            if "codes" in r:
                row["codes"] = [int(x) for x in r["codes"]]
            rows.append(row)
        results[im["name"]] = rows
    json.dump({"skimage": skimage.__version__, "greyVsRgb2gray": grey_diff, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
