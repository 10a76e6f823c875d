/**
 * Keyboard of the labeling view: a key event becomes an intent (pure, testable), and the
 * view decides what each intent does. Keys typed into inputs never count.
 */
import { onBeforeUnmount, onMounted } from 'vue';
import { positionForKey } from '../lib/labelFilter';

export type LabelIntent =
  | { type: 'assign'; position: number }
  | { type: 'unlabel' }
  | { type: 'move'; dx: number; dy: number; extend: boolean }
  | { type: 'edge'; end: boolean }
  | { type: 'toggle' }
  | { type: 'selectAll' }
  | { type: 'undo' }
  | { type: 'redo' }
  | { type: 'exclude' }
  | { type: 'open' }
  | { type: 'close' };

export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  if (el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
  if (el.tagName !== 'INPUT') return false;
  // Sliders, checkboxes and colour pickers keep no text: shortcuts still apply... except arrows on a slider.
  const type = (el as HTMLInputElement).type;
  return !['checkbox', 'radio', 'button', 'color'].includes(type);
}

export function keyIntent(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'>): LabelIntent | null {
  const k = e.key;
  if (e.altKey) return null;
  if (e.ctrlKey || e.metaKey) {
    const lower = k.toLowerCase();
    if (lower === 'a') return { type: 'selectAll' };
    if (lower === 'z') return e.shiftKey ? { type: 'redo' } : { type: 'undo' };
    if (lower === 'y') return { type: 'redo' };
    return null;
  }
  const pos = positionForKey(k);
  if (pos >= 0) return { type: 'assign', position: pos };
  switch (k) {
    case 'ArrowLeft':
      return { type: 'move', dx: -1, dy: 0, extend: e.shiftKey };
    case 'ArrowRight':
      return { type: 'move', dx: 1, dy: 0, extend: e.shiftKey };
    case 'ArrowUp':
      return { type: 'move', dx: 0, dy: -1, extend: e.shiftKey };
    case 'ArrowDown':
      return { type: 'move', dx: 0, dy: 1, extend: e.shiftKey };
    case 'Home':
      return { type: 'edge', end: false };
    case 'End':
      return { type: 'edge', end: true };
    case ' ':
    case 'Spacebar':
      return { type: 'toggle' };
    case 'x':
    case 'X':
      return { type: 'exclude' };
    case 'Enter':
      return { type: 'open' };
    case 'Escape':
      return { type: 'close' };
    case 'Backspace':
    case 'Delete':
      return { type: 'unlabel' };
    default:
      return null;
  }
}

/** Listen on the window while mounted; `handle` returns false to let the key through. */
export function useLabelingKeys(handle: (intent: LabelIntent, e: KeyboardEvent) => boolean | void, enabled: () => boolean = () => true): void {
  const onKey = (e: KeyboardEvent): void => {
    if (!enabled() || e.defaultPrevented || isTyping(e.target)) return;
    const intent = keyIntent(e);
    if (!intent) return;
    if (e.repeat && intent.type !== 'move') return;
    // A clicked button keeps the focus: Space or Enter would press it again instead of labeling.
    const t = e.target as HTMLElement | null;
    if (t && t.tagName === 'BUTTON' && !t.closest('[role="dialog"]')) t.blur();
    if (handle(intent, e) !== false) e.preventDefault();
  };
  onMounted(() => window.addEventListener('keydown', onKey));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey));
}
