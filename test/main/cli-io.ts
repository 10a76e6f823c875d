/** The CLI tests' CliIO: stdout and stderr lines recorded, no TTY, an interrupt the test triggers from a line it sees. */
import type { CliIO } from '../../src/main/host/cli-program';

/** `onLine(line, interrupt)` sees each stdout line; `interrupt()` acts as Ctrl+C. */
export function io(onLine?: (line: string, interrupt: () => void) => void): CliIO & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  let handler: (() => void) | null = null;
  return {
    lines,
    errors,
    out(line) {
      lines.push(line);
      onLine?.(line, () => handler?.());
    },
    err: (line) => errors.push(line),
    progressStream: { isTTY: false } as NodeJS.WriteStream,
    onInterrupt(h) {
      handler = h;
      return () => {
        handler = null;
      };
    },
  };
}

/** process.argv for `layerwise ARGS…`. */
export const argv = (...args: string[]): string[] => ['node', 'layerwise', ...args];
