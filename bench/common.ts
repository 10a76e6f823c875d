/**
 * Helpers shared by the benchmark workers: JSON-lines protocol on stdin/stdout, float32 ↔
 * base64, peak resident memory.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Float32Array (or Int32Array) → base64 of its bytes (little-endian, as in memory). */
export function toB64(a: Float32Array | Int32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** base64 of float32 bytes → Float32Array (a copy, aligned). */
export function f32FromB64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** Peak resident set size of this process in MiB (Linux VmHWM; process.resourceUsage elsewhere). */
export function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Serve a worker: each stdin line is a JSON command, `handle` returns the JSON reply
 * (one line on stdout). An exception becomes { error } and the worker keeps serving.
 */
export function serve(handle: (cmd: Record<string, any>) => Promise<unknown>): void {
  const rl = createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      let reply: unknown;
      try {
        reply = await handle(JSON.parse(line));
      } catch (e) {
        reply = { error: (e as Error).stack ?? String(e) };
      }
      process.stdout.write(JSON.stringify(reply) + '\n');
    });
  });
  rl.on('close', () => void chain.then(() => process.exit(0)));
}
