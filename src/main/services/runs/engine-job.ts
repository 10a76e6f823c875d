/**
 * A short engine job that answers once (the LR range test, the augmentation preview): one
 * engine process, its `jobProgress` passed on, its `jobResult` parsed, a `failed` / exit /
 * timeout turned into an ApiError naming the job. Nothing is stored.
 */
import { ApiError } from '../../../shared/errors';
import type { MainToEngine } from '../../../shared/engine-protocol';
import type { EngineLauncher } from '../../engine-launcher';
import { exitReason } from './engine';

/**
 * Launch an engine, send `msg`, resolve with `parse(result)`.
 * @throws ApiError internal (`what` failed / ended without an answer / took over `timeoutS`), conflict when cancelled.
 */
export function runEngineJob<T>(
  launcher: EngineLauncher,
  msg: MainToEngine,
  parse: (raw: unknown) => T,
  what: string,
  opts: { timeoutS: number; onProgress?: (done: number, total: number) => void },
): Promise<T> {
  const engine = launcher.launch();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const end = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subs.forEach((s) => s.dispose());
      f();
    };
    const timer = setTimeout(() => {
      engine.kill('SIGKILL');
      end(() => reject(new ApiError('internal', `${what} took over ${opts.timeoutS} s`)));
    }, opts.timeoutS * 1000);
    timer.unref();
    const subs = [
      engine.onMessage((m) => {
        if (m.type === 'jobProgress') opts.onProgress?.(m.done, m.total);
        else if (m.type === 'jobResult') end(() => resolve(parse(m.result)));
        else if (m.type === 'failed') end(() => reject(new ApiError('internal', `${what} failed: ${m.error}`)));
        else if (m.type === 'jobCancelled') end(() => reject(new ApiError('conflict', `${what} was cancelled`)));
      }),
      engine.onExit((exit) => end(() => reject(new ApiError('internal', `${what} ended without an answer: ${exitReason(exit)}`)))),
    ];
    engine.send(msg);
  });
}
