/**
 * Photos are committed from their header and their thumbnails and dHashes made afterwards
 * (src/main/import/previews.ts): the grey flag is right the moment an item is committed
 * (real hymenoptera photos: colour; grey copies of them with 3 channels and with 1); the
 * job's 'thumbnails' phase makes the rest, with the same hashes an import-time decode gives;
 * a thumbnail asked for before it exists is made on demand (also over HTTP); near-duplicate
 * search waits for the hashes; a job cancelled in that phase, or whose process was
 * SIGKILLed in it, leaves previews that the next service makes.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startHostServer } from '../../src/main/host/server';
import { normalizeBuffer } from '../../src/main/images/image';
import { DatasetService } from '../../src/main/services/datasets';
import { QualityService } from '../../src/main/services/quality';
import { REPO_ROOT, sharedData, tempDataDir, tempDir, type TempDataDir } from '../helpers';

const HYMENOPTERA = sharedData('hymenoptera');
const SECOND = join(REPO_ROOT, 'test', 'main', 'second-process.ts');

/** The first `n` JPEG photos of hymenoptera train/<cls>, sorted. */
function photos(cls: 'ants' | 'bees', n: number): string[] {
  const dir = join(HYMENOPTERA!, 'train', cls);
  return readdirSync(dir)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .slice(0, n)
    .map((f) => join(dir, f));
}

/** Copy `files` into `<root>/<cls>/`. */
function copyInto(root: string, cls: string, files: string[]): void {
  mkdirSync(join(root, cls), { recursive: true });
  for (const f of files) copyFileSync(f, join(root, cls, f.split('/').pop()!));
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function service(dir: TempDataDir, heartbeatMs?: number): DatasetService {
  const svc = new DatasetService({ db: dir.openDb(), paths: dir.paths, heartbeatMs });
  cleanups.push(async () => {
    svc.dispose();
    await svc.idle();
  });
  return svc;
}

interface BlobRow {
  name: string;
  hash: string;
  grey: number | null;
  phash: string | null;
}
const blobRows = (dir: TempDataDir, datasetId: number): BlobRow[] =>
  dir.openDb().prepare('SELECT i.original_name AS name, b.hash, b.grey, b.phash FROM items i JOIN blobs b ON b.hash = i.blob_hash WHERE i.dataset_id = ? ORDER BY i.id').all(datasetId) as BlobRow[];

async function until<T>(what: string, f: () => T | undefined | null | false, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!HYMENOPTERA)('photos committed from their header, previews made after', () => {
  it('grey flags are right at commit (colour photos, grey copies with 3 channels and 1, a colour photo with a white top); the phase then makes thumbnails and the import-time dHashes', async () => {
    const dir = tempDataDir();
    cleanups.push(() => dir.cleanup());
    const src = tempDir();
    cleanups.push(() => src.cleanup());
    const [a0, a1, a2] = photos('ants', 3);
    copyInto(src.path, 'colour', [a0, a1, ...photos('bees', 2)]);
    mkdirSync(join(src.path, 'grey'));
    // A grey photo saved with 3 channels (R = G = B decoded exactly) and one saved with 1.
    writeFileSync(join(src.path, 'grey', 'grey-rgb.jpg'), await sharp(a2).greyscale().toColourspace('srgb').jpeg({ quality: 90 }).toBuffer());
    writeFileSync(join(src.path, 'grey', 'grey-1ch.jpg'), await sharp(a1).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer());
    expect((await sharp(join(src.path, 'grey', 'grey-rgb.jpg')).metadata()).channels).toBe(3);
    expect((await sharp(join(src.path, 'grey', 'grey-1ch.jpg')).metadata()).channels).toBe(1);
    // A colour photo under a 40-px white band: its first rows are grey, the photo is not.
    writeFileSync(join(src.path, 'colour', 'white-top.jpg'), await sharp(a0).extend({ top: 40, background: '#ffffff' }).jpeg({ quality: 90 }).toBuffer());

    const svc = service(dir);
    const atCommit: BlobRow[][] = [];
    const phases: { done: number; total: number }[] = [];
    svc.onEvent((e) => {
      if (e.event !== 'import.progress' || e.payload.phase !== 'thumbnails') return;
      if (phases.length === 0) atCommit.push(blobRows(dir, e.payload.datasetId!));
      phases.push({ done: e.payload.done, total: e.payload.total });
    });
    const { jobId } = await svc.startImport({ path: src.path });
    const job = await svc.waitForImport(jobId);
    expect(job).toMatchObject({ status: 'done', imported: 7, skipped: [] });

    // At commit (the phase's first event): every grey flag final; header-only photos have no dHash yet.
    const byName = new Map(atCommit[0].map((r) => [r.name, r]));
    expect(atCommit[0]).toHaveLength(7);
    for (const r of atCommit[0]) expect(r.grey, r.name).toBe(r.name.startsWith('grey-') ? 1 : 0);
    expect(byName.get(a0.split('/').pop()!)!.phash).toBeNull(); // a colour photo: committed from its header
    expect(byName.get('grey-1ch.jpg')!.phash).toBeNull(); // 1 channel: grey by its header
    expect(byName.get('grey-rgb.jpg')!.phash).not.toBeNull(); // grey first rows: decoded whole before commit
    expect(byName.get('white-top.jpg')!.phash).not.toBeNull();
    const deferred = atCommit[0].filter((r) => r.phash === null).length;
    expect(deferred).toBe(5);
    expect(phases[0]).toEqual({ done: 0, total: deferred });
    expect(phases.at(-1)).toEqual({ done: deferred, total: deferred });

    // Done: every photo has its thumbnail (≤ 128 px) and the dHash an import-time decode of its file gives.
    const files = new Map(readdirSync(join(src.path, 'colour')).map((f) => [f, join(src.path, 'colour', f)]));
    for (const f of readdirSync(join(src.path, 'grey'))) files.set(f, join(src.path, 'grey', f));
    for (const r of blobRows(dir, job.datasetId!)) {
      const thumb = svc.imageFile(r.hash, 'thumb')!;
      expect(thumb, r.name).toMatch(/thumbs/);
      const m = await sharp(thumb).metadata();
      expect(Math.max(m.width!, m.height!)).toBe(128);
      expect(r.phash, r.name).toBe((await normalizeBuffer(readFileSync(files.get(r.name)!), '.jpg')).phash);
    }
    // The default input shape has 1 channel only when every image is grey: 3 here (5 colour, 2 grey) ...
    expect(svc.get(job.datasetId!).typicalShape?.[2]).toBe(3);
    expect(svc.get(job.datasetId!).imageStats).toMatchObject({ count: 7, grey: 2 });
    // ... and 1 for the grey photos alone, already when their items are committed.
    let shapeAtCommit: number[] | null = null;
    const sub = svc.onEvent((e) => {
      if (e.event === 'import.progress' && e.payload.phase === 'thumbnails' && shapeAtCommit === null) shapeAtCommit = svc.get(e.payload.datasetId!).typicalShape;
    });
    const greyJob = await svc.waitForImport((await svc.startImport({ path: join(src.path, 'grey'), name: 'grey only' })).jobId);
    sub.dispose();
    expect(greyJob).toMatchObject({ status: 'done', imported: 2 });
    expect(shapeAtCommit![2]).toBe(1);
    expect(svc.get(greyJob.datasetId!).typicalShape![2]).toBe(1);
  });

  it('cancelled in its thumbnails phase: items stay; a pending thumbnail is made when asked for (API and HTTP); near-duplicate search waits for the dHashes', async () => {
    const dir = tempDataDir();
    cleanups.push(() => dir.cleanup());
    const src = tempDir();
    cleanups.push(() => src.cleanup());
    copyInto(src.path, 'ants', photos('ants', 15));
    copyInto(src.path, 'bees', photos('bees', 15));
    const svc = service(dir);
    let jobId = -1;
    svc.onEvent((e) => {
      if (e.event === 'import.progress' && e.payload.phase === 'thumbnails') svc.cancelImport(jobId);
    });
    jobId = (await svc.startImport({ path: src.path })).jobId;
    const job = await svc.waitForImport(jobId);
    expect(job).toMatchObject({ status: 'cancelled', imported: 30 });
    const pending = blobRows(dir, job.datasetId!).filter((r) => r.phash === null);
    expect(pending.length).toBeGreaterThan(10);
    expect(existsSync(svc.blobs.thumbPath(pending[0].hash))).toBe(false);

    // Asked for through the API: made now, a real thumbnail (not the full photo).
    const thumb = (await svc.servedFile(pending[0].hash, 'thumb'))!;
    expect(thumb).toBe(svc.blobs.thumbPath(pending[0].hash));
    const m = await sharp(thumb).metadata();
    expect([m.format, Math.max(m.width!, m.height!)]).toEqual(['png', 128]);
    expect(blobRows(dir, job.datasetId!).find((r) => r.hash === pending[0].hash)!.phash).toMatch(/^[0-9a-f]{16}$/);

    // Over HTTP, as the grid asks for it.
    const server = await startHostServer({ handle: async () => ({}), onEvent: () => ({ dispose() {} }), imageFile: (h, k) => svc.servedFile(h, k), rendererDir: null, port: 0 });
    cleanups.push(() => server.close());
    const res = await fetch(`http://127.0.0.1:${server.port}/image/thumb/${pending[1].hash}?token=${server.token}`);
    expect(res.status).toBe(200);
    const png = Buffer.from(await res.arrayBuffer());
    const pm = await sharp(png).metadata();
    expect([pm.format, Math.max(pm.width!, pm.height!)]).toEqual(['png', 128]);

    // Near-duplicate search waits for the hashes it needs: afterwards none is missing.
    const quality = new QualityService({ db: dir.openDb(), blobs: svc.blobs, versions: svc.versions, previews: svc.previews });
    await quality.nearDuplicates({ datasetId: job.datasetId! });
    expect(blobRows(dir, job.datasetId!).filter((r) => r.phash === null)).toEqual([]);
    expect(blobRows(dir, job.datasetId!).filter((r) => !existsSync(svc.blobs.thumbPath(r.hash)))).toEqual([]);
  });

  it('the process SIGKILLed in its thumbnails phase: the next service marks the job interrupted and makes the missing previews', async () => {
    const dir = tempDataDir();
    cleanups.push(() => dir.cleanup());
    const src = tempDir();
    cleanups.push(() => src.cleanup());
    copyInto(src.path, 'ants', photos('ants', 40));
    copyInto(src.path, 'bees', photos('bees', 40));
    const child = spawn(process.execPath, ['--import', 'tsx', SECOND, dir.root, 'import', src.path], { cwd: REPO_ROOT, env: { ...process.env, LAYERWISE_TEST_HEARTBEAT_MS: '300' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (/^thumbnails \d+$/m.test(out)) {
          child.kill('SIGKILL'); // all items committed, previews being made
          resolve();
        }
      });
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      void exited.then(() => reject(new Error(`the importing process exited before its thumbnails phase:\n${out}`)));
    });
    await exited;
    const db = dir.openDb();
    const datasetId = db.prepare('SELECT id FROM datasets').pluck().get() as number;
    const before = blobRows(dir, datasetId);
    expect(before).toHaveLength(80);
    expect(before.filter((r) => r.phash === null).length).toBeGreaterThan(0);
    expect(before.every((r) => r.grey === 0)).toBe(true); // colour, known at commit

    const svc = service(dir, 300);
    const jobId = db.prepare('SELECT id FROM import_jobs').pluck().get() as number;
    expect(svc.getImport(jobId)).toMatchObject({ status: 'failed', error: 'interrupted', imported: 80 });
    await until('the previews the killed import left', () => blobRows(dir, datasetId).every((r) => r.phash !== null));
    await svc.idle();
    expect(blobRows(dir, datasetId).filter((r) => !existsSync(svc.blobs.thumbPath(r.hash)))).toEqual([]);
  });
});
