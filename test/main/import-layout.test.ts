/**
 * Folder layouts as datasets really ship them (issue 7, "Import: never a silent wrong
 * dataset"): split folder names in their usual spellings, split folders one level down,
 * labels from file names, and walks of any size or with unreadable parts. Real files in
 * temp dirs (CIFAR-10 PNGs from ../shared/data), real SQLite through DatasetService / the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../../src/shared/errors';
import { scanFolder } from '../../src/main/import/folder';
import { compileLabelPattern, splitOfName } from '../../src/main/import/layout';
import { createApp, type App } from '../../src/main/services/app';
import type { DatasetService } from '../../src/main/services/datasets';
import { sharedData, tempDataDir, tempDatasetService, tempDir } from '../helpers';

const cifar = sharedData('cifar10-subset');

/** Copy `n` CIFAR-10 images of class `cls` (train split) into `dest`, optionally renaming them. */
function copyCifar(cls: string, n: number, dest: string, rename: (i: number, f: string) => string = (_i, f) => f, offset = 0): void {
  mkdirSync(dest, { recursive: true });
  const files = readdirSync(join(cifar!, 'train', cls)).sort().slice(offset, offset + n);
  files.forEach((f, i) => copyFileSync(join(cifar!, 'train', cls, f), join(dest, rename(i, f))));
}

describe('split folder names', () => {
  it('recognises the usual spellings case-insensitively, with -, _, space, . or no separator', () => {
    const train = ['train', 'Train', 'TRAINING', 'training_set', 'Training-Set', 'train_set', 'trainset', 'train set', 'train.set', 'train_data', 'TrainImages'];
    const val = ['val', 'VAL', 'valid', 'validation', 'Validation_Set', 'validation-set', 'val_set', 'dev', 'Dev-Set', 'valset'];
    const test = ['test', 'Testing', 'test_set', 'TEST-SET', 'testset', 'test set', 'testing_set', 'test_images'];
    for (const n of train) expect([n, splitOfName(n)]).toEqual([n, 'train']);
    for (const n of val) expect([n, splitOfName(n)]).toEqual([n, 'val']);
    for (const n of test) expect([n, splitOfName(n)]).toEqual([n, 'test']);
    for (const n of ['cats', 'dataset', 'trainer', 'testosterone', 'devices', 'set', 'validated', 'train2', 'my_train']) expect([n, splitOfName(n)]).toEqual([n, null]);
  });
});

describe.skipIf(!cifar)('folder import: layouts as datasets ship them (real SQLite)', () => {
  let svc: DatasetService;
  let close: () => Promise<void>;
  let input: { path: string; cleanup(): void };
  beforeAll(() => {
    ({ svc, close } = tempDatasetService());
    input = tempDir();
  });
  afterAll(async () => {
    await close();
    input.cleanup();
  });

  it('dataset/training_set/{cats,dogs} + dataset/test_set/{cats,dogs}: two classes with their given splits, never classes named after splits', async () => {
    const root = join(input.path, 'kaggle');
    copyCifar('cat', 6, join(root, 'dataset', 'training_set', 'cats'));
    copyCifar('dog', 5, join(root, 'dataset', 'training_set', 'dogs'));
    copyCifar('cat', 3, join(root, 'dataset', 'test_set', 'cats'), undefined, 10);
    copyCifar('dog', 2, join(root, 'dataset', 'test_set', 'dogs'), undefined, 10);
    writeFileSync(join(root, 'README.md'), '# cats and dogs\n');
    writeFileSync(join(root, 'LICENSE'), 'CC0\n');
    const job = await svc.waitForImport((await svc.startImport({ path: root, name: 'kaggle' })).jobId);
    expect(job.status).toBe('done');
    expect(job.imported).toBe(16);
    const d = svc.get(job.datasetId!);
    expect(d.classes.map((c) => c.name)).toEqual(['cats', 'dogs']);
    expect(d.split.mode).toBe('given');
    expect(d.counts.test).toBe(5);
    expect(d.classes.map((c) => [c.name, c.counts.test])).toEqual([['cats', 3], ['dogs', 2]]);
    expect(d.classes.map((c) => c.counts.train + c.counts.val)).toEqual([6, 5]);
  });

  it('Training_Set/training_set/…, TEST-SET/test_set/…, "validation set": the doubled Kaggle folders and mixed spellings', async () => {
    const root = join(input.path, 'doubled');
    copyCifar('cat', 4, join(root, 'Training_Set', 'training_set', 'cats'));
    copyCifar('dog', 4, join(root, 'Training_Set', 'training_set', 'dogs'));
    copyCifar('cat', 2, join(root, 'validation set', 'cats'), undefined, 10);
    copyCifar('dog', 2, join(root, 'validation set', 'dogs'), undefined, 10);
    copyCifar('cat', 3, join(root, 'TEST-SET', 'test_set', 'cats'), undefined, 20);
    copyCifar('dog', 1, join(root, 'TEST-SET', 'test_set', 'dogs'), undefined, 20);
    const job = await svc.waitForImport((await svc.startImport({ path: root, name: 'doubled' })).jobId);
    expect(job.status).toBe('done');
    const d = svc.get(job.datasetId!);
    expect(d.classes.map((c) => [c.name, c.counts.train, c.counts.val, c.counts.test])).toEqual([
      ['cats', 4, 2, 3],
      ['dogs', 4, 2, 1],
    ]);
  });

  it('class folders holding split folders (cats/train, cats/test, …): classes with their given splits, not one class per folder with splits lost', async () => {
    const root = join(input.path, 'class-first');
    copyCifar('cat', 4, join(root, 'cats', 'train'));
    copyCifar('cat', 2, join(root, 'cats', 'Test'), undefined, 10);
    copyCifar('dog', 3, join(root, 'dogs', 'train'));
    copyCifar('dog', 1, join(root, 'dogs', 'Test'), undefined, 10);
    const job = await svc.waitForImport((await svc.startImport({ path: root, name: 'class-first' })).jobId);
    const d = svc.get(job.datasetId!);
    expect(d.split.mode).toBe('given');
    expect(d.classes.map((c) => [c.name, c.counts.train + c.counts.val, c.counts.test])).toEqual([
      ['cats', 4, 2],
      ['dogs', 3, 1],
    ]);
  });

  it('labels from file names: {label}.{n} on flat train/ + test/ folders, and a regex with a named group', async () => {
    const root = join(input.path, 'flat');
    copyCifar('cat', 5, join(root, 'train'), (i) => `cat.${i}.png`);
    copyCifar('dog', 4, join(root, 'train'), (i) => `dog.${i}.png`);
    copyCifar('cat', 2, join(root, 'test'), (i) => `cat.${100 + i}.png`, 10);
    copyCifar('dog', 2, join(root, 'test'), (i) => `dog.${100 + i}.png`, 10);
    const job = await svc.waitForImport((await svc.startImport({ path: root, name: 'flat', labelPattern: '{label}.{n}' })).jobId);
    expect(job.status).toBe('done');
    expect(job.notice).toBeNull();
    const d = svc.get(job.datasetId!);
    expect(d.classes.map((c) => [c.name, c.counts.test, c.counts.total])).toEqual([
      ['cat', 2, 7],
      ['dog', 2, 6],
    ]);
    expect(job.labels).toEqual({ classes: 2, labeled: 13 });

    const mnist = join(input.path, 'mnist-flat');
    copyCifar('cat', 3, mnist, (i) => `seven_${i}.png`);
    copyCifar('dog', 3, mnist, (i) => `three_${i}.png`);
    const re = await svc.waitForImport((await svc.startImport({ path: mnist, name: 'digits', labelPattern: '^(?<label>[a-z]+)_\\d+\\.png$' })).jobId);
    expect(svc.get(re.datasetId!).classes.map((c) => [c.name, c.counts.total])).toEqual([
      ['seven', 3],
      ['three', 3],
    ]);
  });

  it('a flat folder without classes: the job says no classes were found and names the three ways to get labels', async () => {
    const root = join(input.path, 'nolabels');
    copyCifar('cat', 3, root, (i) => `img${i}.png`);
    const job = await svc.waitForImport((await svc.startImport({ path: root, name: 'nolabels' })).jobId);
    expect(job.status).toBe('done');
    expect(job.labels).toEqual({ classes: 0, labeled: 0 });
    expect(job.notice).toMatch(/^No classes found/);
    expect(job.notice).toMatch(/folder per class/);
    expect(job.notice).toMatch(/\{label\}_\{n\}/);
    expect(job.notice).toMatch(/label them in the app/);
  });

  it('an unreadable sub-folder, a broken link and a link loop are skipped with their reasons; the import goes on', async () => {
    const root = join(input.path, 'faults');
    copyCifar('cat', 3, join(root, 'cats'));
    copyCifar('dog', 3, join(root, 'dogs', 'outdoor'));
    symlinkSync(join(root, 'nowhere.png'), join(root, 'cats', 'dangling.png'));
    symlinkSync(join(root, 'dogs'), join(root, 'dogs', 'outdoor', 'loop'));
    const locked = join(root, 'cats', 'locked');
    copyCifar('cat', 2, locked, undefined, 10);
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) chmodSync(locked, 0o000);
    try {
      const job = await svc.waitForImport((await svc.startImport({ path: root, name: 'faults' })).jobId);
      expect(job.status).toBe('done');
      const reasons = Object.fromEntries(job.skipped.map((s) => [s.path.slice(root.length + 1), s.reason]));
      expect(reasons['cats/dangling.png']).toBe('broken link: its target does not exist');
      expect(reasons['dogs/outdoor/loop']).toMatch(/a loop/);
      if (!asRoot) expect(reasons['cats/locked']).toMatch(/cannot read it \(EACCES: permission denied\)/);
      const d = svc.get(job.datasetId!);
      expect(d.classes.map((c) => [c.name, c.counts.total])).toEqual([
        ['cats', asRoot ? 5 : 3],
        ['dogs', 3],
      ]);
    } finally {
      if (!asRoot) chmodSync(locked, 0o755);
    }
  });
});

/** A temp folder on tmpfs when there is one (creating 200,000 files on this VM's disk takes minutes), removed with `rm -rf` (rmSync recurses per level). */
function fastTempDir(): { path: string; cleanup(): void } {
  const root = existsSync('/dev/shm') && statSync('/dev/shm').isDirectory() ? '/dev/shm' : tmpdir();
  const path = mkdtempSync(join(root, 'layerwise-walk-'));
  return { path, cleanup: () => void spawnSync('rm', ['-rf', path]) };
}

describe('folder walks: any size, any depth, folders that fail while read', () => {
  let input: { path: string; cleanup(): void };
  beforeAll(() => {
    input = fastTempDir();
  });
  afterAll(() => input.cleanup());

  it('a folder of 200,000 files inside a class folder is walked (no stack overflow)', async () => {
    const dir = join(input.path, 'big', 'cls', 'sub');
    mkdirSync(dir, { recursive: true });
    let t0 = performance.now();
    const made = spawnSync('sh', ['-c', 'seq -f "f%06g.png" 1 200000 | xargs touch'], { cwd: dir });
    expect(made.status).toBe(0);
    writeFileSync(join(input.path, 'big', 'cls', 'top.png'), '');
    console.log(`200,001 empty files made in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    t0 = performance.now();
    const scan = await scanFolder(join(input.path, 'big'));
    console.log(`walk of 200,001 files: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    expect(scan.entries).toHaveLength(200_001);
    expect(scan.classNames).toEqual(['cls']);
    expect(scan.entries[0].name).toBe('top.png');
    expect(scan.entries[1].name).toBe('sub/f000001.png');
    expect(scan.entries[200_000].name).toBe('sub/f200000.png');
    spawnSync('rm', ['-rf', join(input.path, 'big')]);
  }, 180_000);

  it('a file 1,900 folders deep belongs to its class', async () => {
    const rel = Array.from({ length: 1900 }, () => 'd').join('/');
    const deep = join(input.path, 'deep', 'cls', rel);
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'x.png'), '');
    const scan = await scanFolder(join(input.path, 'deep'));
    expect(scan.skipped).toEqual([]);
    expect(scan.entries.map((e) => [e.className, e.name])).toEqual([['cls', `${rel}/x.png`]]);
  }, 60_000);

  it('a sub-folder replaced by a file just before it is read is skipped with its reason (ENOTDIR); the other files stay', async () => {
    const root = join(input.path, 'race');
    for (const p of ['a/one.png', 'a/gone/two.png', 'a/kept/three.png', 'b/four.png']) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), '');
    }
    const gone = join(root, 'a', 'gone');
    const scan = await scanFolder(root, {
      readdir: async (dir) => {
        if (dir === gone) {
          // The real folder becomes a file between its listing in a/ and its own read.
          rmSync(gone, { recursive: true });
          writeFileSync(gone, 'now a file');
        }
        return readdir(dir, { withFileTypes: true });
      },
    });
    expect(scan.skipped).toEqual([{ path: gone, reason: 'folder skipped with everything in it: cannot read it (ENOTDIR: no longer a folder (replaced while it was read))' }]);
    expect(scan.entries.map((e) => `${e.className}/${e.name}`)).toEqual(['a/one.png', 'a/kept/three.png', 'b/four.png']);
  });
});

describe('label patterns', () => {
  it('templates and regexes give the class; others match nothing', () => {
    expect(compileLabelPattern('{label}_{n}').labelOf('seven_123.png')).toBe('seven');
    expect(compileLabelPattern('{label}_{n}').labelOf('t_shirt_12.png')).toBe('t_shirt');
    expect(compileLabelPattern('{label}.{n}').labelOf('cat.123.jpg')).toBe('cat');
    expect(compileLabelPattern('{label}.{n}').labelOf('cat.jpg')).toBeNull();
    expect(compileLabelPattern('{label} ({n})').labelOf('Golden Retriever (3).jpeg')).toBe('Golden Retriever');
    expect(compileLabelPattern('(?<label>[A-Z][a-z]+)\\d').labelOf('xxDog7.png')).toBe('Dog');
  });

  it('an invalid regex or one without a label group is refused naming labelPattern, before anything is stored', async () => {
    expect(() => compileLabelPattern('(?<label>[a-z+')).toThrow(ApiError);
    const dir = tempDataDir();
    const input = tempDir();
    let app: App | null = null;
    try {
      writeFileSync(join(input.path, 'a_1.png'), '');
      app = createApp({ dataDir: dir.root });
      for (const labelPattern of ['(?<label>[a-z+', '^([a-z]+)_\\d+$']) {
        const err = await app.handle('datasets.import', { path: input.path, labelPattern }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'invalid_params', field: 'labelPattern' });
        expect((err as Error).message).toMatch(/^labelPattern: /);
        const perr = await app.handle('datasets.previewImport', { path: input.path, labelPattern }).catch((e: unknown) => e);
        expect(perr).toMatchObject({ code: 'invalid_params', field: 'labelPattern' });
      }
      expect(await app.handle('datasets.list', {})).toEqual([]);
    } finally {
      await app?.shutdown();
      dir.cleanup();
      input.cleanup();
    }
  });
});

describe('class folder names follow the API rule for class names', () => {
  it('a class folder whose name holds a control character is skipped with the reason; the other classes import', async () => {
    const input = tempDir();
    try {
      const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a4944415478da63600000000200015d0b3c6d0000000049454e44ae426082', 'hex');
      for (const c of ['cats', 'dogs', 'bad\u0007name']) {
        mkdirSync(join(input.path, c));
        for (let i = 0; i < 3; i++) writeFileSync(join(input.path, c, `${i}.png`), png);
      }
      const scan = await scanFolder(input.path);
      expect(scan.classNames).toEqual(['cats', 'dogs']);
      expect(scan.entries.every((e) => e.className === 'cats' || e.className === 'dogs')).toBe(true);
      const bad = scan.skipped.filter((s) => s.path.includes('bad\u0007name'));
      expect(bad).toHaveLength(3);
      expect(bad[0].reason).toMatch(/class folder name "bad\\u0007name" contains a control character \(U\+0007/);
    } finally {
      input.cleanup();
    }
  });
});
