/** The transport's connection state, for the "reconnecting" banner. */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ConnectionState } from '../api/client';

export const useConnectionStore = defineStore('connection', () => {
  const state = ref<ConnectionState>('open');
  const reconnects = ref(0);
  function set(s: ConnectionState): void {
    if (s === 'open' && state.value === 'reconnecting') reconnects.value++;
    state.value = s;
  }
  return { state, reconnects, set };
});
