/** Test helper: the whole renderer App mounted at a route (memory history, a fresh Pinia), attached to the document. The caller unmounts it. */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory } from 'vue-router';
import App from '../../src/renderer/App.vue';
import { createAppRouter } from '../../src/renderer/router';

export async function mountApp(path: string): Promise<VueWrapper> {
  const pinia = createPinia();
  setActivePinia(pinia);
  const router = createAppRouter(createMemoryHistory());
  await router.push(path);
  await router.isReady();
  const wrapper = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body });
  await flushPromises();
  return wrapper;
}
