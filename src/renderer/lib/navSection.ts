/** Which sidebar entry a route belongs to (src/renderer/router.ts names), so the sidebar highlights it. */
export type NavSection = 'datasets' | 'runs' | 'new-run' | 'sweeps' | 'pipelines' | null;

/**
 * The sidebar section of the route named `name`: Compare belongs to Runs (it is opened from the
 * run list), a dataset and its labeling to Datasets; an unknown route highlights nothing.
 */
export function navSection(name: string): NavSection {
  if (name === 'new-run') return 'new-run';
  if (name === 'compare' || name.startsWith('run')) return 'runs';
  if (name.startsWith('sweep')) return 'sweeps';
  if (name === 'pipelines') return 'pipelines';
  if (name.startsWith('dataset') || name === 'label') return 'datasets';
  return null;
}
