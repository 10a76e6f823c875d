#!/usr/bin/env node
/**
 * A stand-in for the headless host, for looking at the UI before the real one lands:
 * serves a built renderer folder over HTTP and a fake API over WebSocket at /api
 * (WireRequest/WireResponse/WireEvent), with a 70,000-item dataset, generated 28×28
 * PNG thumbnails at /image/{thumb,full}/<hash>, and runs that "train" with live events.
 *   node test/renderer/mockHost.mjs <renderer-dir> [port] [--token=secret]
 * Not used by the unit tests.
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { WebSocketServer } from 'ws';

const dir = path.resolve(process.argv[2] ?? 'out/renderer');
const port = Number(process.argv[3] ?? 5178);
const token = process.argv.find((a) => a.startsWith('--token='))?.slice(8) ?? null;

const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const N = 70000;
const splitOf = (i) => (i < 54000 ? 'train' : i < 60000 ? 'val' : 'test');
const counts = (pred) => ({ train: 0, val: 0, test: 0, total: 0, ...pred });
const classes = CLASSES.map((name, index) => ({ id: index + 1, index, name, color: null, counts: counts({ train: 5400, val: 600, test: 1000, total: 7000 }) }));
let split = { mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 42 };
const datasets = [{ id: 1, name: 'Fashion-MNIST', sourcePath: '/data/fashion-mnist', createdAt: Date.now() / 1000 - 3600, itemCount: N, classCount: 10, counts: { train: 54000, val: 6000, test: 10000 }, typicalShape: [28, 28, 1] }];
const runs = [];
const metrics = new Map();

function crc32(buf) {
  let c, crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(seed) {
  const w = 28, h = 28, raw = Buffer.alloc((w + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const d = Math.hypot(x - 14, y - 14);
    raw[y * (w + 1) + 1 + x] = Math.max(0, Math.min(255, 255 - d * (10 + (seed % 10) * 3) + ((x * 7 + y * 13 + seed) % 40)));
  }
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const sockets = new Set();
const broadcast = (event, payload) => { const f = JSON.stringify({ event, payload }); for (const s of sockets) s.send(f); };
const err = (message, code = 'invalid_params', field) => Object.assign(new Error(message), { api: { message, code, ...(field ? { field } : {}) } });

function summary(r) { const { spec: _s, ...rest } = r; return rest; }

function startRun(spec, name) {
  if (!spec || typeof spec !== 'object') throw err('spec is required', 'invalid_params', 'spec');
  if (!(spec.training?.batchSize >= 1)) throw err('Too small: expected number to be >=1', 'invalid_params', 'spec.training.batchSize');
  const id = runs.length + 1;
  const now = Date.now() / 1000;
  const r = { id, name: name ?? `${spec.model.preset} #${id}`, datasetId: spec.datasetId, datasetName: 'Fashion-MNIST', datasetVersionId: 1, preset: spec.model.preset, status: 'queued', backend: null, error: null, createdAt: now, startedAt: null, finishedAt: null, durationSeconds: null, bestValAccuracy: null, testAccuracy: null, testLoss: null, samplesPerSec: null, spec };
  runs.push(r); metrics.set(id, []);
  const epochs = spec.training.epochs, stepsPerEpoch = 300, total = epochs * stepsPerEpoch;
  let step = 0;
  setTimeout(() => {
    Object.assign(r, { status: 'running', backend: 'webgpu', startedAt: Date.now() / 1000 });
    broadcast('run.status', { runId: id, status: 'running', backend: 'webgpu', error: null });
    const timer = setInterval(() => {
      if (r.status !== 'running') return clearInterval(timer);
      const batch = [];
      for (let k = 0; k < 10 && step < total; k++, step++) {
        const loss = 2.3 * Math.exp(-step / 400) + 0.3 + Math.random() * 0.15;
        batch.push({ name: 'loss', epoch: Math.floor(step / stepsPerEpoch), step, value: loss, time: Date.now() / 1000 });
        broadcast('run.progress', { runId: id, epoch: Math.floor(step / stepsPerEpoch), epochs, step, totalSteps: total, loss, samplesPerSec: 5000 + Math.random() * 300, etaSeconds: (total - step) * 0.01 });
      }
      const e = Math.floor(step / stepsPerEpoch) - 1;
      if (step % stepsPerEpoch === 0 && e >= 0) {
        const acc = 0.7 + 0.2 * (1 - Math.exp(-(e + 1) / 2));
        batch.push(
          { name: 'trainLoss', epoch: e, step: null, value: 0.9 / (e + 1) + 0.3, time: Date.now() / 1000 },
          { name: 'trainAccuracy', epoch: e, step: null, value: acc + 0.02, time: Date.now() / 1000 },
          { name: 'valLoss', epoch: e, step: null, value: 0.95 / (e + 1) + 0.35, time: Date.now() / 1000 },
          { name: 'valAccuracy', epoch: e, step: null, value: acc, time: Date.now() / 1000 },
        );
        r.bestValAccuracy = Math.max(r.bestValAccuracy ?? 0, acc);
      }
      metrics.get(id).push(...batch);
      broadcast('run.metrics', { runId: id, metrics: batch });
      if (step >= total) {
        clearInterval(timer);
        Object.assign(r, { status: 'completed', finishedAt: Date.now() / 1000, testAccuracy: r.bestValAccuracy - 0.01, testLoss: 0.41, samplesPerSec: 5120 });
        r.durationSeconds = r.finishedAt - r.startedAt;
        broadcast('run.status', { runId: id, status: 'completed', backend: 'webgpu', error: null });
      }
    }, 100);
  }, 300);
  return { runId: id };
}

let jobs = 0;
function startImport(p) {
  if (!p.path.startsWith('/data')) throw err(`path does not exist: ${p.path}`, 'invalid_params', 'path');
  const jobId = ++jobs, total = 500;
  let done = 0;
  const t = setInterval(() => {
    done = Math.min(total, done + 50);
    broadcast('import.progress', { jobId, datasetId: 1, phase: 'importing', done, total, skipped: Math.floor(done / 100) });
    if (done >= total) {
      clearInterval(t);
      broadcast('import.finished', { id: jobId, datasetId: 1, sourcePath: p.path, status: 'done', imported: 495, duplicates: 3, skipped: [{ path: `${p.path}/notes.txt`, reason: 'not an image' }, { path: `${p.path}/broken.png`, reason: 'corrupt PNG: bad IHDR' }], error: null, startedAt: Date.now() / 1000 - 2, finishedAt: Date.now() / 1000 });
    }
  }, 150);
  return { jobId };
}

const handlers = {
  'system.info': () => ({ version: '0.1.0', dataDir: '/tmp/mock', host: 'headless', sampleDatasetPath: '/data/fashion-mnist' }),
  'datasets.list': () => datasets,
  'datasets.get': ({ datasetId }) => { if (datasetId !== 1) throw err('dataset not found', 'not_found', 'datasetId'); return { ...datasets[0], classes, split, imports: [] }; },
  'datasets.items': ({ offset, limit, split: s, classId }) => {
    const idx = [];
    for (let i = 0; i < N; i++) if ((!s || splitOf(i) === s) && (!classId || (i % 10) + 1 === classId)) idx.push(i);
    return { total: idx.length, items: idx.slice(offset, offset + limit).map((i) => ({ id: i + 1, hash: `h${i}`, name: `img${i}.png`, classId: (i % 10) + 1, split: splitOf(i), width: 28, height: 28 })) };
  },
  'datasets.setSplit': ({ split: s }) => { split = s; return { ...datasets[0], classes, split, imports: [] }; },
  'datasets.import': startImport,
  'imports.get': ({ jobId }) => ({ id: jobId, datasetId: 1, sourcePath: '', status: 'running', imported: 0, duplicates: 0, skipped: [], error: null, startedAt: 0, finishedAt: null }),
  'imports.cancel': () => ({ ok: true }),
  'runs.list': () => runs.map(summary),
  'runs.get': ({ runId }) => { const r = runs.find((x) => x.id === runId); if (!r) throw err('run not found', 'not_found', 'runId'); return r; },
  'runs.start': ({ spec, name }) => startRun(spec, name),
  'runs.cancel': ({ runId }) => { const r = runs.find((x) => x.id === runId); if (r && r.status === 'running') { r.status = 'cancelled'; broadcast('run.status', { runId, status: 'cancelled', backend: r.backend, error: null }); } return { ok: true }; },
  'runs.metrics': ({ runId }) => metrics.get(runId) ?? [],
};

const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const m = /^\/image\/(thumb|full)\/h(\d+)$/.exec(url.pathname);
  if (m) { res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'max-age=3600' }); return res.end(png(Number(m[2]))); }
  const file = path.join(dir, url.pathname === '/' ? 'index.html' : path.normalize(url.pathname));
  if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) { res.writeHead(404); return res.end('not found'); }
  res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/api' || (token && url.searchParams.get('token') !== token)) return socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', async (data) => {
      const msg = JSON.parse(String(data));
      try {
        const h = handlers[msg.method];
        if (!h) throw err(`unknown method ${msg.method}`, 'not_found');
        ws.send(JSON.stringify({ id: msg.id, result: await h(msg.params ?? {}) }));
      } catch (e) {
        ws.send(JSON.stringify({ id: msg.id, error: e.api ?? { message: String(e.message), code: 'internal' } }));
      }
    });
  });
});
server.listen(port, '127.0.0.1', () => console.log(`mock host on http://127.0.0.1:${port}/${token ? `?token=${token}` : ''}`));
