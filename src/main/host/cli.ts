/**
 * Entry of the `layerwise` command (built to out/main/cli.js, started by bin/layerwise.cjs).
 */
import { runCli } from './cli-program';

runCli(process.argv).then(
  (code) => {
    // -1: a long-running command (serve) keeps the process alive until a signal.
    if (code >= 0) process.exit(code);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
