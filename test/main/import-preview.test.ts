/**
 * The import preview (`datasets.previewImport`, `layerwise import PATH --dry-run`): the
 * structure an import would store, file types by name and content, sample thumbnails and
 * warnings — and nothing stored (the SQLite tables and the blob folder are compared
 * before and after). Real CIFAR-10 / hymenoptera files in temp dirs, a real data directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ImportPreviewSchema, type ImportPreview } from '../../src/shared/import-preview';
import { runCli, type CliIO } from '../../src/main/host/cli-program';
import { createApp, type App } from '../../src/main/services/app';
import { sharedData, tempDataDir, tempDir, type TempDataDir } from '../helpers';

const cifar = sharedData('cifar10-subset');
const hymen = sharedData('hymenoptera');
const mnist = sharedData('mnist-test-idx');

function copyCifar(cls: string, n: number, dest: string, rename: (i: number, f: string) => string = (_i, f) => f, offset = 0): void {
  mkdirSync(dest, { recursive: true });
  const files = readdirSync(join(cifar!, 'train', cls)).sort().slice(offset, offset + n);
  files.forEach((f, i) => copyFileSync(join(cifar!, 'train', cls, f), join(dest, rename(i, f))));
}

/** Every row of every table but `processes` (which records the live processes themselves), as JSON; and the blob files. */
function snapshot(dir: TempDataDir): string {
  const db = new Database(dir.paths.db, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('processes', 'sqlite_sequence') ORDER BY name").pluck().all() as string[];
    const dump = Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}"`).all()]));
    const blobs = existsSync(join(dir.root, 'blobs')) ? readdirSync(join(dir.root, 'blobs'), { recursive: true }) : [];
    return JSON.stringify({ dump, blobs });
  } finally {
    db.close();
  }
}

function collect(): CliIO & { lines: string[]; errs: string[] } {
  const lines: string[] = [], errs: string[] = [];
  return { lines, errs, out: (l) => lines.push(l), err: (l) => errs.push(l), onInterrupt: () => () => undefined };
}

describe.skipIf(!cifar)('import preview (real files, real data directory)', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  let app: App;
  let kaggle: string;
  beforeAll(() => {
    dir = tempDataDir();
    input = tempDir();
    app = createApp({ dataDir: dir.root });
    kaggle = join(input.path, 'kaggle');
    copyCifar('cat', 6, join(kaggle, 'dataset', 'training_set', 'cats'));
    copyCifar('dog', 5, join(kaggle, 'dataset', 'training_set', 'dogs'));
    copyCifar('cat', 3, join(kaggle, 'dataset', 'test_set', 'cats'), undefined, 10);
    copyCifar('dog', 2, join(kaggle, 'dataset', 'test_set', 'dogs'), undefined, 10);
  });
  afterAll(async () => {
    await app.shutdown();
    dir.cleanup();
    input.cleanup();
  });

  const preview = async (path: string, labelPattern?: string): Promise<ImportPreview> => ImportPreviewSchema.parse(await app.handle('datasets.previewImport', labelPattern ? { path, labelPattern } : { path }));

  it('training_set/test_set one level down: splits × classes with counts, file types, thumbnails; nothing stored', async () => {
    const before = snapshot(dir);
    const p = await preview(kaggle);
    expect(snapshot(dir)).toBe(before);
    expect(await app.handle('datasets.list', {})).toEqual([]);
    expect(p.base).toBe(join(kaggle, 'dataset'));
    expect(p.splitFolders).toEqual([
      { split: 'test', folder: 'test_set' },
      { split: 'train', folder: 'training_set' },
    ]);
    expect(p.labelSource).toBe('folders');
    expect(p.classes.map((c) => [c.name, c.counts.train, c.counts.test, c.counts.total])).toEqual([
      ['cats', 6, 3, 9],
      ['dogs', 5, 2, 7],
    ]);
    expect(p.unlabeled.counts.total).toBe(0);
    expect(p.extensions).toEqual([{ ext: '.png', count: 16 }]);
    expect(p.formats).toEqual([{ format: 'png', count: 16 }]);
    expect(p.warnings).toEqual([]);
    // 4 samples per class, each a real ≤ 64 px PNG of a file of that class
    for (const c of p.classes) {
      expect(c.samples).toHaveLength(4);
      for (const s of c.samples) {
        expect(s.path).toContain(`/${c.name}/`);
        const m = await sharp(Buffer.from(s.thumbUrl!.replace(/^data:image\/png;base64,/, ''), 'base64')).metadata();
        expect(m.format).toBe('png');
        expect(Math.max(m.width!, m.height!)).toBeLessThanOrEqual(64);
      }
    }
  });

  it('warns about class sub-folders, a class of 1 image, one class holding > 90 %, a split folder without classes, classes differing between splits', async () => {
    const root = join(input.path, 'odd');
    copyCifar('bird', 3, join(root, 'train', 'birds', 'crows'));
    copyCifar('bird', 3, join(root, 'train', 'birds', 'gulls'), undefined, 3);
    copyCifar('cat', 70, join(root, 'train', 'cats'));
    copyCifar('frog', 1, join(root, 'train', 'solo'));
    copyCifar('cat', 2, join(root, 'val', 'cats'), undefined, 50);
    copyCifar('dog', 3, join(root, 'test'), undefined, 50);
    const p = await preview(root);
    const byCode = (code: string) => p.warnings.filter((w) => w.code === code);
    expect(byCode('nested_class_folders')).toEqual([
      {
        code: 'nested_class_folders',
        className: 'birds',
        suggestedPath: join(root, 'train', 'birds'),
        message: `Class 'birds' has sub-folders crows, gulls: its images are imported as one class 'birds'. To import them as classes, choose ${join(root, 'train', 'birds')} as the folder.`,
      },
    ]);
    expect(byCode('single_image_class').map((w) => w.className)).toEqual(['solo']);
    expect(byCode('dominant_class').map((w) => w.message)).toEqual([
      "Class 'cats' holds 91 % of the labelled images (72 of 79): a model can reach that accuracy by always answering 'cats'.",
    ]);
    expect(byCode('empty_split').map((w) => w.message)).toEqual(["Split folder 'test' (test) has no class folders: its 3 images would be unlabelled."]);
    expect(byCode('split_classes_differ').map((w) => w.message)).toEqual(["Split folder 'val' (val) lacks the classes birds, solo that other split folders have."]);
    expect(p.unlabeled.counts).toEqual({ train: 0, val: 0, test: 3, none: 0, total: 3 });
  });

  it('flat files: no classes (with the three ways), a suggested pattern; the pattern then shows the classes it finds', async () => {
    const root = join(input.path, 'flat');
    copyCifar('cat', 5, root, (i) => `cat.${i}.png`);
    copyCifar('dog', 4, root, (i) => `dog.${i}.png`);
    const p = await preview(root);
    expect(p.classes).toEqual([]);
    expect(p.labelSource).toBe('none');
    expect(p.warnings.map((w) => w.code)).toEqual(['no_classes']);
    expect(p.warnings[0].message).toMatch(/9 images would be imported unlabelled.*folder per class.*\{label\}_\{n\}.*label them in the app/);
    expect(p.suggestedLabelPattern).toEqual({ pattern: '{label}.{n}', classes: ['cat', 'dog'], matched: 9 });
    const q = await preview(root, '{label}.{n}');
    expect(q.labelSource).toBe('pattern');
    expect(q.classes.map((c) => [c.name, c.counts.total])).toEqual([
      ['cat', 5],
      ['dog', 4],
    ]);
    expect(q.warnings).toEqual([]);
  });

  it.skipIf(!hymen)('hymenoptera: types by extension and by content find the GIF among the JPEGs', async () => {
    const p = await preview(hymen!);
    expect(p.classes.map((c) => [c.name, c.counts.train, c.counts.val])).toEqual([
      ['ants', 124, 70],
      ['bees', 121, 83],
    ]);
    expect(p.extensions).toEqual([
      { ext: '.jpg', count: 396 },
      { ext: '.gif', count: 1 },
      { ext: '.jpeg', count: 1 },
    ]);
    expect(p.formats).toEqual([
      { format: 'jpeg', count: 397 },
      { format: 'gif', count: 1 },
    ]);
  });

  it.skipIf(!mnist)('MNIST IDX files: 10 classes in the test split with the official counts, digit thumbnails; a label pattern is refused for them', async () => {
    const p = await preview(mnist!);
    expect(p.format).toBe('idx');
    expect(p.labelSource).toBe('idx');
    expect(p.classes.map((c) => c.counts.test)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    const m = await sharp(Buffer.from(p.classes[7].samples[0].thumbUrl!.split(',')[1], 'base64')).metadata();
    expect([m.width, m.height]).toEqual([28, 28]);
    await expect(app.handle('datasets.previewImport', { path: mnist!, labelPattern: '{label}_{n}' })).rejects.toMatchObject({ code: 'invalid_params', field: 'labelPattern' });
  });

  it('layerwise import --dry-run prints the structure and stores nothing; --label-pattern imports with it; a label-less import names the three ways', async () => {
    const cliDir = tempDataDir();
    try {
      // a data directory that exists already (the CLI run creates the database otherwise)
      await createApp({ dataDir: cliDir.root }).shutdown();
      const before = snapshot(cliDir);
      const o = collect();
      expect(await runCli(['node', 'layerwise', 'import', kaggle, '--dry-run', '--data-dir', cliDir.root], o)).toBe(0);
      expect(snapshot(cliDir)).toBe(before);
      const text = o.lines.join('\n');
      expect(text).toMatch(/^dry run: nothing stored\. .* would import 16 files into 2 classes/);
      expect(text).toContain('split folders: test_set → test, training_set → train');
      expect(o.lines).toContain('class  train  test  total');
      expect(o.lines).toContain('cats       6     3      9');
      expect(o.lines).toContain('dogs       5     2      7');
      expect(text).toContain('by content (16 of 16 read): png 16');

      const flat = join(input.path, 'flat-cli');
      copyCifar('cat', 3, flat, (i) => `cat_${i}.png`);
      copyCifar('dog', 3, flat, (i) => `dog_${i}.png`);
      const d = collect();
      expect(await runCli(['node', 'layerwise', 'import', flat, '--dry-run', '--data-dir', cliDir.root], d)).toBe(0);
      expect(d.lines.join('\n')).toContain("suggestion: --label-pattern '{label}_{n}' labels 6 files with 2 classes (cat, dog)");
      const bad = collect();
      expect(await runCli(['node', 'layerwise', 'import', flat, '--label-pattern', '(?<label>[a-z', '--data-dir', cliDir.root], bad)).toBe(2);
      expect(bad.errs.join('\n')).toMatch(/^error: --label-pattern: not a valid regular expression/);
      const nolab = collect();
      expect(await runCli(['node', 'layerwise', 'import', flat, '--name', 'nolab', '--data-dir', cliDir.root], nolab)).toBe(0);
      expect(nolab.lines.join('\n')).toMatch(/note: No classes found: the 6 images of this dataset have no labels\. To get labels: \(1\) put the images in one folder per class.*\(2\) give a file-name pattern.*\(3\) label them in the app/);
      const w = collect();
      expect(await runCli(['node', 'layerwise', 'import', join(input.path, 'flat'), '--name', 'pat', '--label-pattern', '{label}.{n}', '--data-dir', cliDir.root], w)).toBe(0);
      expect(w.lines.join('\n')).toMatch(/dataset \d+ "pat": 9 images, 2 classes/);
      expect(w.lines.join('\n')).not.toContain('No classes found');
    } finally {
      cliDir.cleanup();
    }
  });
});
