/**
 * One import in a process of its own, so that its memory is the import's alone (the
 * datasets benchmark runs it): `node --import tsx bench/import-child.ts <data-dir> <source>`.
 * Imports `<source>` into the data directory through DatasetService (the app's import path)
 * and prints one JSON line (ImportChildResult): the time until every item is committed
 * (the job's first 'thumbnails' progress event) and until the job is done. Peak memory is the kernel's high-water mark
 * of the resident set (VmHWM in /proc/self/status, MB = 10⁶ bytes), read before the import
 * (modules loaded, database open) and after it; RSS is also sampled every 20 ms to say when
 * the peak came (samples miss what happens while the event loop is blocked; VmHWM does not).
 */
import { readFileSync } from 'node:fs';
import { openDatabase } from '../src/main/db/db';
import { dataPaths } from '../src/main/paths';
import { DatasetService } from '../src/main/services/datasets';

/** What the child prints. */
export interface ImportChildResult {
  status: string;
  error: string | null;
  imported: number;
  duplicates: number;
  skipped: number;
  datasetId: number | null;
  /** Wall time from startImport to the finished job (thumbnails and dHashes made), seconds. */
  seconds: number;
  /** Wall time from startImport to every item committed (the job's 'thumbnails' phase begins), seconds; null when the job never got there. */
  committedSeconds: number | null;
  /** CPU time of this process (all its threads: sharp's included) over the same two spans, seconds: what the other load on a shared machine does not inflate much. */
  cpuSeconds: number;
  committedCpuSeconds: number | null;
  /** Thumbnails and dHashes the job's 'thumbnails' phase had to make (photos committed from their header). */
  deferredPreviews: number;
  /** VmHWM before the import (modules loaded, database open), MB. */
  peakBeforeMB: number;
  /** VmHWM after the import: the process's peak resident set, MB. */
  peakMB: number;
  /** Largest sampled RSS, MB, and when it was seen (seconds after the start). */
  sampledPeakMB: number;
  sampledPeakAtS: number;
}

/** VmHWM in MB (Linux); the maximum RSS from getrusage elsewhere. */
function highWaterMB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return (Number(m[1]) * 1024) / 1e6;
  } catch {
    // not Linux
  }
  return (process.resourceUsage().maxRSS * 1024) / 1e6;
}

async function main(): Promise<void> {
  const [dataDir, source] = process.argv.slice(2);
  if (!dataDir || !source) throw new Error('usage: bench/import-child.ts <data-dir> <source>');
  const paths = dataPaths(dataDir);
  const svc = new DatasetService({ db: openDatabase(paths.db), paths });
  const peakBeforeMB = highWaterMB();
  let sampledPeakMB = 0;
  let sampledPeakAtS = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const cpuSince = (): number => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1e6;
  };
  let committedSeconds: number | null = null;
  let committedCpuSeconds: number | null = null;
  let deferredPreviews = 0;
  const sub = svc.onEvent((e) => {
    if (e.event !== 'import.progress' || e.payload.phase !== 'thumbnails' || committedSeconds !== null) return;
    committedSeconds = (performance.now() - t0) / 1000;
    committedCpuSeconds = cpuSince();
    deferredPreviews = e.payload.total;
  });
  const sampler = setInterval(() => {
    const mb = process.memoryUsage.rss() / 1e6;
    if (mb > sampledPeakMB) [sampledPeakMB, sampledPeakAtS] = [mb, (performance.now() - t0) / 1000];
  }, 20);
  try {
    const job = await svc.waitForImport((await svc.startImport({ path: source })).jobId);
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = cpuSince();
    clearInterval(sampler);
    const result: ImportChildResult = {
      status: job.status,
      error: job.error ?? null,
      imported: job.imported,
      duplicates: job.duplicates,
      skipped: job.skipped.length,
      datasetId: job.datasetId ?? null,
      seconds,
      committedSeconds,
      cpuSeconds,
      committedCpuSeconds,
      deferredPreviews,
      peakBeforeMB,
      peakMB: highWaterMB(),
      sampledPeakMB,
      sampledPeakAtS,
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    clearInterval(sampler);
    sub.dispose();
    svc.dispose();
    await svc.idle();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
