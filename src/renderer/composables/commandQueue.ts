/**
 * A queue of view commands (label, exclude, move, undo, upload…) that run one after
 * another, each on the state the previous one left, with a busy count and the last
 * command's error as text (a failed command does not stop the ones after it).
 */
import { ref, type Ref } from 'vue';
import { errorText } from '../api/errors';

export interface CommandQueue {
  /** Commands queued or running. */
  busy: Ref<number>;
  /** The error of the last command that failed, cleared when the next one starts. */
  error: Ref<string | null>;
  /** A line saying what the last command did (set by the commands themselves). */
  status: Ref<string | null>;
  /** Run `fn` after every command queued before it; resolves when it has run (never rejects). */
  enqueue(fn: () => Promise<void>): Promise<void>;
}

export function useCommandQueue(): CommandQueue {
  const busy = ref(0);
  const error = ref<string | null>(null);
  const status = ref<string | null>(null);
  let chain: Promise<void> = Promise.resolve();
  function enqueue(fn: () => Promise<void>): Promise<void> {
    chain = chain.then(async () => {
      busy.value++;
      error.value = null;
      try {
        await fn();
      } catch (e) {
        error.value = errorText(e);
      } finally {
        busy.value--;
      }
    });
    return chain;
  }
  return { busy, error, status, enqueue };
}
