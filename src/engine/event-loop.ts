/**
 * One macrotask turn, so the engine process reads its queued messages (a `cancel`) between
 * batches, steps or images of a long job: the cpu / wasm backends' `data()` resolves as a
 * microtask, so a loop of awaits on it alone never lets a message in.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
