/** A button's async action: `busy` while it runs, `error` (its text) when it fails, cleared when it starts again. */
import { ref, type Ref } from 'vue';
import { errorText } from '../api/errors';

export function useBusyAction(): { busy: Ref<boolean>; error: Ref<string | null>; run(action: () => Promise<void>): Promise<void> } {
  const busy = ref(false);
  const error = ref<string | null>(null);
  async function run(action: () => Promise<void>): Promise<void> {
    busy.value = true;
    error.value = null;
    try {
      await action();
    } catch (e) {
      error.value = errorText(e);
    } finally {
      busy.value = false;
    }
  }
  return { busy, error, run };
}
