/**
 * Engine process entry (built to out/main/engine.js): an Electron utility process or a
 * `child_process.fork` child. See process.ts for the protocol flow.
 */
import { startEngineProcess } from './process';

startEngineProcess().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
