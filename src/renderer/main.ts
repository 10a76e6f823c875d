import { createApp } from 'vue';
import { createPinia } from 'pinia';
import { config as zodConfig } from 'zod';
import App from './App.vue';
import { createAppRouter } from './router';
import { setApi } from './api';
import { createApiClient } from './api/client';
import { useConnectionStore } from './stores/connection';
import './styles.css';

// The shared zod schemas run here too; without JIT zod never tries `new Function`,
// which the strict CSP (no 'unsafe-eval') would refuse and report.
zodConfig({ jitless: true });

const client = createApiClient();
setApi(client);

const pinia = createPinia();
const app = createApp(App);
app.use(pinia);
app.use(createAppRouter());

const connection = useConnectionStore(pinia);
connection.set(client.state);
client.onState((s) => connection.set(s));

app.mount('#app');
