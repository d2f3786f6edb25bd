import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Wait } from './Wait';

// Page A's URL carries the job, as your backend's register answer gave it: ?id=…&token=…
const params = new URLSearchParams(location.search);
const id = params.get('id');
const { VITE_JOBCAST_URL, VITE_JOBCAST_NOT_FOUND_TIMEOUT_MS } = import.meta.env;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {id ? (
      <Wait
        id={id}
        token={params.get('token') ?? undefined}
        baseUrl={VITE_JOBCAST_URL}
        notFoundTimeoutMs={VITE_JOBCAST_NOT_FOUND_TIMEOUT_MS ? Number(VITE_JOBCAST_NOT_FOUND_TIMEOUT_MS) : undefined}
      />
    ) : (
      <p>Open this page as ?id=…&amp;token=…, with the job your backend registered.</p>
    )}
  </StrictMode>,
);
