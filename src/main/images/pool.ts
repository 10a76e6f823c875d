/**
 * Run `fn` over `items` with at most `limit` calls in flight; results in input order.
 * Stops starting new calls once `shouldStop()` returns true (those slots stay undefined).
 * Rejects with the first error thrown by `fn` (after the calls in flight settle).
 */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>, shouldStop: () => boolean = () => false): Promise<(R | undefined)[]> {
  const results: (R | undefined)[] = new Array(items.length);
  let next = 0;
  let failed: unknown = null;
  const worker = async (): Promise<void> => {
    while (next < items.length && failed === null && !shouldStop()) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (err) {
        if (failed === null) failed = err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== null) throw failed;
  return results;
}
