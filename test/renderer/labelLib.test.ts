/** Route query ↔ item filter, class keys, key intents, and upload batching. */
import { describe, expect, it } from 'vitest';
import { classKey, filterFromQuery, positionForKey, queryFromFilter } from '../../src/renderer/lib/labelFilter';
import { batchFiles } from '../../src/renderer/lib/upload';
import { keyIntent } from '../../src/renderer/composables/labelingKeys';

const k = (key: string, m: { ctrlKey?: boolean; metaKey?: boolean; shiftKey?: boolean; altKey?: boolean } = {}) => keyIntent({ key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...m });

describe('label filter query', () => {
  it('round-trips every filter and drops junk', () => {
    const f = { split: 'test' as const, classId: 4, unlabeled: true, excluded: false, changedSinceVersionId: 2, runId: 7, predictedClassId: 5, trueClassId: 6, misclassified: true };
    expect(filterFromQuery(queryFromFilter(f))).toEqual(f);
    expect(filterFromQuery({ split: 'nope', classId: '-1', runId: 'x', predictedClassId: '3' })).toEqual({});
    // Prediction filters need a run.
    expect(queryFromFilter({ predictedClassId: 3 })).toEqual({});
  });
  it('maps digits to class positions: 1–9 then 0', () => {
    expect([0, 8, 9, 10].map(classKey)).toEqual(['1', '9', '0', null]);
    expect(['1', '9', '0', 'a'].map(positionForKey)).toEqual([0, 8, 9, -1]);
  });
});

describe('key intents', () => {
  it('maps keys to intents', () => {
    expect(k('3')).toEqual({ type: 'assign', position: 2 });
    expect(k(' ')).toEqual({ type: 'toggle' });
    expect(k('a', { ctrlKey: true })).toEqual({ type: 'selectAll' });
    expect(k('A', { metaKey: true })).toEqual({ type: 'selectAll' });
    expect(k('z', { ctrlKey: true })).toEqual({ type: 'undo' });
    expect(k('Z', { ctrlKey: true, shiftKey: true })).toEqual({ type: 'redo' });
    expect(k('y', { ctrlKey: true })).toEqual({ type: 'redo' });
    expect(k('ArrowDown', { shiftKey: true })).toEqual({ type: 'move', dx: 0, dy: 1, extend: true });
    expect(k('X')).toEqual({ type: 'exclude' });
    expect(k('Enter')).toEqual({ type: 'open' });
    expect(k('Escape')).toEqual({ type: 'close' });
    expect(k('1', { altKey: true })).toBeNull();
    expect(k('c', { ctrlKey: true })).toBeNull();
  });
});

describe('upload batches', () => {
  it('splits by count and by base64 size, keeping order', () => {
    const files = Array.from({ length: 7 }, (_, i) => ({ size: 30, i }));
    expect(batchFiles(files, 3, 1e9).map((b) => b.map((f) => f.i))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    // 30 bytes → 40 base64 chars; 100 allows two per batch.
    expect(batchFiles(files, 100, 100).map((b) => b.length)).toEqual([2, 2, 2, 1]);
    // A file over the limit travels alone.
    expect(batchFiles([{ size: 1000 }, { size: 3 }], 100, 100).map((b) => b.length)).toEqual([1, 1]);
  });
});
