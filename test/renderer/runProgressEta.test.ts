// @vitest-environment happy-dom
/**
 * The run page's progress line: the ETA is a time remaining, shown in words
 * ("8 min 41 s left"), never as "08:41", which reads like a clock time.
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import RunProgress from '../../src/renderer/components/RunProgress.vue';
import { formatRemaining } from '../../src/renderer/lib/format';

const progress = (etaSeconds: number) => ({ runId: 1, epoch: 1, epochs: 5, step: 10, totalSteps: 100, loss: 0.5, samplesPerSec: 900, etaSeconds });

describe('RunProgress ETA', () => {
  it('shows the time left in words, not as a clock time', () => {
    setActivePinia(createPinia());
    const w = mount(RunProgress, { props: { progress: progress(521), epochs: 5 } });
    const eta = w.get('[data-testid="run-progress-eta"]').text();
    expect(eta).toBe('8 min 41 s left');
    expect(eta).not.toMatch(/\d:\d\d/);
  });

  it('formats hours, seconds and unknown', () => {
    expect(formatRemaining(3600 + 5 * 60 + 9)).toBe('1 h 05 min left');
    expect(formatRemaining(12.4)).toBe('12 s left');
    expect(formatRemaining(undefined)).toBe('—');
  });
});
