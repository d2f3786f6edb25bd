import { createApp, h } from 'vue';
import Wait from './Wait.vue';

// Page A's URL carries the job, as your backend's register answer gave it: ?id=…&token=…
const params = new URLSearchParams(location.search);
const id = params.get('id');
const { VITE_JOBCAST_URL, VITE_JOBCAST_NOT_FOUND_TIMEOUT_MS } = import.meta.env;

const app = id
  ? createApp(Wait, {
      id,
      token: params.get('token') ?? undefined,
      baseUrl: VITE_JOBCAST_URL,
      notFoundTimeoutMs: VITE_JOBCAST_NOT_FOUND_TIMEOUT_MS ? Number(VITE_JOBCAST_NOT_FOUND_TIMEOUT_MS) : undefined,
    })
  : createApp({ render: () => h('p', 'Open this page as ?id=…&token=…, with the job your backend registered.') });
app.mount('#app');
