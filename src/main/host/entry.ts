/**
 * Entry of the headless host (built to out/main/host.js):
 *   node out/main/host.js [--data-dir DIR] [--port 7700] [--host 127.0.0.1] [--demo]
 * Prints "Layerwise is running at http://127.0.0.1:7700/" and stops cleanly on SIGINT / SIGTERM.
 */
import { runCli } from './cli-program';

runCli([process.argv[0], process.argv[1], 'serve', ...process.argv.slice(2)]).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
