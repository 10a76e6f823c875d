/**
 * Dropping photos in the labeling view, end to end below the DOM: the labeling store's
 * uploadFiles (the code the drop handler calls) with the renderer's WebSocket client, over a
 * real WebSocket to a real headless host with a real database. 50 real JPEGs, ≥ 20 MB.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_MESSAGE_BYTES } from '../../src/main/host/server';
import { setApi } from '../../src/renderer/api';
import { WsClient, type WebSocketCtor } from '../../src/renderer/api/client';
import { useLabelingStore } from '../../src/renderer/stores/labeling';
import { sharedData } from '../helpers';
import { useTestHost } from '../helpers/host';
import { cifar } from '../main/runs-helpers';

const hymenoptera = sharedData('hymenoptera');

/**
 * 50 real photos of at least 20 MB together, as a user would drop them: the largest JPEGs of
 * hymenoptera, the largest one repeated under other names as often as needed to pass 20 MB.
 */
function fiftyPhotos(): { name: string; path: string; size: number }[] {
  const all = ['train', 'val'].flatMap((split) => ['ants', 'bees'].flatMap((c) => readdirSync(join(hymenoptera!, split, c)).map((n) => join(hymenoptera!, split, c, n))));
  const sized = all.map((path) => ({ path, size: statSync(path).size })).sort((a, b) => b.size - a.size);
  for (let repeats = 0; repeats < 50; repeats++) {
    const chosen = [...sized.slice(0, 50 - repeats), ...Array.from({ length: repeats }, () => sized[0])];
    if (chosen.reduce((a, f) => a + f.size, 0) >= 20e6) return chosen.map((f, i) => ({ name: `drop-${String(i).padStart(2, '0')}-${basename(f.path)}`, path: f.path, size: f.size }));
  }
  throw new Error('hymenoptera holds too few bytes for 20 MB');
}

describe.skipIf(!cifar || !hymenoptera)('uploads from the UI through a real host', () => {
  const h = useTestHost({ dataset: { name: 'drop target', classes: ['airplane', 'cat'], perClass: 2 } });

  it('dropping 50 photos (≥ 20 MB) uploads them all: every batch fits the frame limit', async () => {
    const photos = fiftyPhotos();
    const bytes = photos.reduce((a, f) => a + f.size, 0);
    expect(photos).toHaveLength(50);
    expect(bytes).toBeGreaterThanOrEqual(20e6);
    const files = photos.map((p) => new File([readFileSync(p.path)], p.name, { type: 'image/jpeg' }));
    const client = new WsClient(`ws://127.0.0.1:${h.server.port}/api?token=${h.server.token}`, { WebSocket: WebSocket as unknown as WebSocketCtor });
    // The size of every frame the client sends.
    const sent: number[] = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (this: WebSocket, data: unknown, ...rest: unknown[]) {
      sent.push(Buffer.byteLength(String(data)));
      return (send as (...a: unknown[]) => void).call(this, data, ...rest);
    } as typeof send;
    try {
      setActivePinia(createPinia());
      setApi(client);
      const before = h.app.datasets.get(h.datasetId!).itemCount;
      const t0 = performance.now();
      const result = await useLabelingStore().uploadFiles(h.datasetId!, files);
      console.log(`upload: 50 photos, ${(bytes / 1e6).toFixed(1)} MB, ${sent.length} frames (largest ${(Math.max(...sent) / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      expect(result.error).toBeNull();
      expect(result.skipped).toEqual([]);
      expect(result.done).toBe(50);
      expect(result.imported + result.duplicates).toBe(50);
      expect(result.imported).toBe(new Set(photos.map((p) => p.path)).size);
      expect(h.app.datasets.get(h.datasetId!).itemCount).toBe(before + result.imported);
      expect(Math.max(...sent)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    } finally {
      WebSocket.prototype.send = send;
      setApi(null);
      client.dispose();
    }
  });
});
