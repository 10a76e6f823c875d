/**
 * Run kinds (src/shared/run-kinds.ts): every run spec stored in the legacy database fixture
 * (test/fixtures/legacy-runs, written before kinds existed) parses as a network; the baseline
 * kinds fill their defaults, and bad input is refused naming the field.
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPreset } from '../../src/shared/spec';
import { describeBaseline, isBaselineSpec, parseAnyRunSpec, runKindOf, type BaselineRunSpec } from '../../src/shared/run-kinds';

const fixture = resolve(__dirname, '..', 'fixtures', 'legacy-runs', 'data', 'layerwise.sqlite');

describe('run kinds', () => {
  it('parses every stored legacy run spec as a network', () => {
    // A copy: opening the fixture itself would leave its -shm / -wal files beside it.
    const tmp = mkdtempSync(join(tmpdir(), 'run-kinds-'));
    copyFileSync(fixture, join(tmp, 'db.sqlite'));
    const db = new Database(join(tmp, 'db.sqlite'), { fileMustExist: true });
    const rows = db.prepare('SELECT spec FROM runs').all() as { spec: string }[];
    db.close();
    rmSync(tmp, { recursive: true, force: true });
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      const spec = parseAnyRunSpec(JSON.parse(r.spec));
      expect(runKindOf(spec)).toBe('network');
      expect(isBaselineSpec(spec)).toBe(false);
    }
  });

  it("accepts kind 'network' written out and leaves the network spec as parseRunSpec gives it", () => {
    const spec = parseAnyRunSpec({ kind: 'network', datasetId: 1, model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }), training: { optimizer: { type: 'adam', learningRate: 0.001 } } });
    expect(runKindOf(spec)).toBe('network');
    expect('kind' in spec).toBe(false);
  });

  it('fills a classic spec and a features spec with their defaults', () => {
    const c = parseAnyRunSpec({ kind: 'classic', datasetId: 3, descriptors: [{ type: 'hog' }], classifier: { type: 'svm' } }) as BaselineRunSpec;
    expect(c).toMatchObject({ kind: 'classic', inputShape: [64, 64, 3], seed: expect.any(Number), descriptors: [{ type: 'hog', orientations: 9, pixelsPerCell: 8, cellsPerBlock: 2, blockNorm: 'L2-Hys' }], classifier: { type: 'svm', kernel: 'linear', C: 1, probability: true } });
    expect(describeBaseline(c)).toMatch(/^HoG .* → linear SVM C=1$/);
    const f = parseAnyRunSpec({ kind: 'features', datasetId: 3, backbone: { file: '/m/mobilenet.tflite', node: 'pool', inputRange: 'symmetric' }, inputShape: [160, 160, 3], pca: { components: 64 }, classifier: { type: 'randomForest' } }) as BaselineRunSpec;
    expect(describeBaseline(f)).toBe('mobilenet:pool → PCA 64 → random forest 100');
  });

  it('refuses bad input naming the field', () => {
    expect(() => parseAnyRunSpec({ kind: 'classic', datasetId: 3, descriptors: [], classifier: { type: 'svm' } })).toThrow(/descriptors/);
    expect(() => parseAnyRunSpec({ kind: 'classic', datasetId: 3, descriptors: [{ type: 'hog' }], classifier: { type: 'svm', C: -1 } })).toThrow(/classifier\.C/);
    expect(() => parseAnyRunSpec({ kind: 'tree', datasetId: 3 })).toThrow(/^kind: /);
  });
});
