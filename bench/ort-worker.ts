/**
 * Benchmark worker for ONNX Runtime (onnxruntime-node, CPU execution provider), inference
 * only, on the ONNX graph PyTorch exported from the same model and weights
 * (bench/torch_worker.py `export_onnx`; NCHW input, the layout ONNX Runtime's CPU kernels take).
 */
import * as ort from 'onnxruntime-node';
import { f32FromB64, peakRssMiB, serve } from './common';

let session: ort.InferenceSession | null = null;
let feeds: Record<string, ort.Tensor> = {};

serve(async (cmd) => {
  switch (cmd.cmd) {
    case 'init': {
      session = await ort.InferenceSession.create(cmd.path, {
        intraOpNumThreads: cmd.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      const [n, h, w, c] = cmd.shape as number[];
      const nhwc = f32FromB64(cmd.x);
      const nchw = new Float32Array(nhwc.length);
      for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) nchw[((b * c + ch) * h + y) * w + x] = nhwc[((b * h + y) * w + x) * c + ch];
      feeds = { [session.inputNames[0]]: new ort.Tensor('float32', nchw, [n, c, h, w]) };
      return { version: ort.env.versions?.common ?? 'unknown' };
    }
    case 'infer': {
      const times: number[] = [];
      for (let i = 0; i < cmd.steps; i++) {
        const t0 = performance.now();
        await session!.run(feeds);
        times.push(performance.now() - t0);
      }
      return { times };
    }
    case 'mem':
      return { peakRssMiB: peakRssMiB() };
    default:
      throw new Error(`unknown command ${cmd.cmd}`);
  }
});
