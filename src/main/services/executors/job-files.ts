/**
 * A Slurm job's folder on the staging filesystem: what the host writes before submitting and
 * what `layerwise engine-job DIR` writes on the node. Nothing in it is a database: the node
 * appends the engine's messages to `messages.jsonl` (one JSON object a line, each line written
 * whole and fsync'd), and the host reads complete lines from a byte offset and ingests them.
 *
 *   job.json         the TrainJob (absolute paths on the shared filesystem), written by the host
 *   job.sh           the batch script sbatch runs
 *   messages.jsonl   the engine's messages (EngineToMain), appended by engine-job
 *   node.json        { node, pid, startedAt } written by engine-job when it starts
 *   cancel           created by the host to ask the engine to stop between steps
 *   slurm-<id>.out   the job's stdout / stderr (sbatch --output)
 */
import { closeSync, existsSync, fsyncSync, openSync, readSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const JOB_FILES = {
  job: 'job.json',
  script: 'job.sh',
  messages: 'messages.jsonl',
  node: 'node.json',
  cancel: 'cancel',
} as const;

/** Write `text` to `file` through a temporary file, fsync'd and renamed: readers see the old file or the whole new one. */
export function writeFileAtomic(file: string, text: string, mode?: number): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Appends messages to a job's `messages.jsonl`, one line each, fsync'd before the call returns. */
export class MessageLog {
  private readonly fd: number;
  constructor(readonly file: string) {
    this.fd = openSync(file, 'a');
  }
  /** Append `msg` as one JSON line and fsync it (a reader never sees half a line as whole). */
  append(msg: unknown): void {
    writeSync(this.fd, `${JSON.stringify(msg)}\n`);
    fsyncSync(this.fd);
  }
  close(): void {
    closeSync(this.fd);
  }
}

/**
 * The complete lines of `file` from byte `offset`, parsed as JSON, and the offset after the
 * last complete line (a line still being written is left for the next read).
 * @returns no messages and the same offset when the file does not exist yet.
 * @throws Error naming the file and line when a complete line is not JSON.
 */
export function readMessages(file: string, offset: number): { messages: unknown[]; offset: number } {
  if (!existsSync(file)) return { messages: [], offset };
  const size = statSync(file).size;
  if (size <= offset) return { messages: [], offset };
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  const end = buf.lastIndexOf(0x0a);
  if (end < 0) return { messages: [], offset };
  const messages = buf
    .subarray(0, end)
    .toString('utf8')
    .split('\n')
    .map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new Error(`${file}: line after byte ${offset} + ${i} is not JSON: ${line.slice(0, 120)}`);
      }
    });
  return { messages, offset: offset + end + 1 };
}

/** Ask the job's engine to stop between steps (engine-job watches for the file). */
export function requestJobCancel(jobDir: string): void {
  writeFileSync(join(jobDir, JOB_FILES.cancel), '');
}
