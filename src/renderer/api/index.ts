/**
 * The one API client of the app, created in main.ts (or a test) and read by the stores.
 * Components never use it directly.
 */
import type { LayerwiseApi } from '../../shared/api';

let current: LayerwiseApi | null = null;

export function setApi(api: LayerwiseApi | null): void {
  current = api;
}

export function useApi(): LayerwiseApi {
  if (!current) throw new Error('The API client is not set up (call setApi first)');
  return current;
}
