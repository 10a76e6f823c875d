import { createRouter, createWebHashHistory, type RouterHistory } from 'vue-router';
import CompareView from './views/CompareView.vue';
import DatasetsView from './views/DatasetsView.vue';
import DatasetView from './views/DatasetView.vue';
import LabelingView from './views/LabelingView.vue';
import NewRunView from './views/NewRunView.vue';
import PipelinesView from './views/PipelinesView.vue';
import RunsView from './views/RunsView.vue';
import RunView from './views/RunView.vue';
import SettingsView from './views/SettingsView.vue';
import SweepNewView from './views/SweepNewView.vue';
import SweepsView from './views/SweepsView.vue';
import SweepView from './views/SweepView.vue';

export function createAppRouter(history: RouterHistory = createWebHashHistory()) {
  return createRouter({
    history,
    routes: [
      { path: '/', redirect: '/datasets' },
      { path: '/datasets', name: 'datasets', component: DatasetsView, meta: { title: 'Datasets' } },
      { path: '/datasets/:id(\\d+)', name: 'dataset', component: DatasetView, props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'Dataset' } },
      { path: '/datasets/:id(\\d+)/label', name: 'label', component: LabelingView, props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'Label' } },
      { path: '/runs', name: 'runs', component: RunsView, meta: { title: 'Runs' } },
      { path: '/runs/new', name: 'new-run', component: NewRunView, meta: { title: 'New run' } },
      { path: '/runs/:id(\\d+)', name: 'run', component: RunView, props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'Run' } },
      { path: '/pipelines', name: 'pipelines', component: PipelinesView, meta: { title: 'Pipelines' } },
      { path: '/compare', name: 'compare', component: CompareView, meta: { title: 'Compare' } },
      { path: '/sweeps', name: 'sweeps', component: SweepsView, meta: { title: 'Sweeps' } },
      { path: '/sweeps/new', name: 'sweep-new', component: SweepNewView, meta: { title: 'New sweep' } },
      { path: '/sweeps/:id(\\d+)', name: 'sweep', component: SweepView, props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'Sweep' } },
      { path: '/settings', name: 'settings', component: SettingsView, meta: { title: 'Settings' } },
      { path: '/:rest(.*)*', redirect: '/datasets' },
    ],
  });
}
