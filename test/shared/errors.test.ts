import { describe, expect, it } from 'vitest';
import { ApiError, errorFromShape, errorShape } from '../../src/shared/errors';
import { buildPreset, parseRunSpec, SpecError } from '../../src/shared/spec';
import { toApiError } from '../../src/renderer/api/errors';

describe('the error contract', () => {
  it('one ApiError (code, message, field) that survives the wire both ways', () => {
    const e = new ApiError('not_found', 'runId: run 9 not found', 'runId');
    const wire = JSON.parse(JSON.stringify(errorShape(e))) as unknown;
    expect(wire).toEqual({ code: 'not_found', message: 'runId: run 9 not found', field: 'runId' });
    const back = errorFromShape(wire);
    expect(back).toBeInstanceOf(ApiError);
    expect(back).toMatchObject({ code: 'not_found', message: 'runId: run 9 not found', field: 'runId' });
    expect(errorShape(new ApiError('disconnected', 'lost'))).toEqual({ code: 'internal', message: 'lost' });
    expect(errorFromShape({ code: 'weird', message: 'x' }).code).toBe('internal');
  });

  it('the renderer uses the same class (a server error arrives as the shared ApiError)', () => {
    const e = toApiError({ code: 'conflict', message: 'name: taken', field: 'name' });
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ code: 'conflict', field: 'name' });
  });

  it('SpecError is an invalid_params ApiError with the offending field set where it is raised', () => {
    let err: unknown;
    try {
      parseRunSpec({ datasetId: 1, model: buildPreset('linear', { inputShape: [8, 8, 1], numClasses: 2 }), training: { optimizer: { type: 'adam', learningRate: 0.001 }, batchSize: 0, epochs: 1 }, seed: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpecError);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'invalid_params', field: 'training.batchSize' });
    const model = buildPreset('lenet5', { inputShape: [8, 8, 1], numClasses: 2 });
    expect(() => parseRunSpec({ datasetId: 1, model, training: { optimizer: { type: 'adam', learningRate: 0.001 }, batchSize: 4, epochs: 1 }, seed: 1 })).toThrow(expect.objectContaining({ code: 'invalid_params', field: expect.stringMatching(/^model\.nodes\[\d+\]$/) }) as Error);
  });
});
