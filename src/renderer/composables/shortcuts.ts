/** Global keyboard shortcuts: `g d` datasets, `g r` runs, `g n` new run (not while typing). */
import { onBeforeUnmount, onMounted } from 'vue';
import { useRouter } from 'vue-router';

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

export function useNavShortcuts(): void {
  const router = useRouter();
  let pendingG = 0;
  const onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    const now = Date.now();
    if (e.key === 'g') {
      pendingG = now;
      return;
    }
    if (now - pendingG < 1200) {
      const to = { d: '/datasets', r: '/runs', n: '/runs/new' }[e.key];
      if (to) {
        e.preventDefault();
        void router.push(to);
      }
    }
    pendingG = 0;
  };
  onMounted(() => window.addEventListener('keydown', onKey));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey));
}
