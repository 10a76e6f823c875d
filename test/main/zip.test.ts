/**
 * The zip of an exported model (services/zip.ts) as Python's zipfile reads it: the files' bytes
 * back (CRC checked), and each entry dated when it was written (MS-DOS date and time, local,
 * 2-second steps) — not the 1980-00-00 of an all-zero field.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeZip } from '../../src/main/services/zip';
import { tempDir } from '../helpers';

/** Python's reading of `zip` (CRCs checked): per entry [name, date_time, length of the bytes read back]. */
function pythonListing(zip: string): [string, number[], number][] {
  const py = 'import sys, json, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps([[i.filename, list(i.date_time), len(z.read(i))] for i in z.infolist()]))';
  return JSON.parse(execFileSync('python3', ['-c', py, zip], { encoding: 'utf8' })) as [string, number[], number][];
}

describe('writeZip', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('dates each entry: a given time (seconds rounded down to even), and by default the time of writing', async () => {
    writeFileSync(join(dir.path, 'model.onnx'), Buffer.alloc(5000, 7));
    writeFileSync(join(dir.path, 'signature.json'), '{"format":"onnx"}\n');
    const fixed = join(dir.path, 'fixed.zip');
    await writeZip(fixed, dir.path, ['model.onnx', 'signature.json'], 'm', new Date(2026, 11, 2, 13, 5, 7));
    expect(pythonListing(fixed)).toEqual([
      ['m/model.onnx', [2026, 12, 2, 13, 5, 6], 5000],
      ['m/signature.json', [2026, 12, 2, 13, 5, 6], 18],
    ]);

    const before = new Date();
    const now = join(dir.path, 'now.zip');
    await writeZip(now, dir.path, ['signature.json'], 'm');
    const after = new Date();
    const [[, dt]] = pythonListing(now);
    // Local time as Python gives it; DOS seconds are even, so the floor of `before` to 2 s.
    const stamped = new Date(dt[0], dt[1] - 1, dt[2], dt[3], dt[4], dt[5]).getTime();
    expect(stamped).toBeGreaterThanOrEqual(Math.floor(before.getTime() / 2000) * 2000);
    expect(stamped).toBeLessThanOrEqual(after.getTime());
  });
});
