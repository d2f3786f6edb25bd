// Page B of the demo: show what the job produced (its `data`), read from the status route.
const params = new URLSearchParams(location.search);
const id = params.get('id');
const token = params.get('token');
const summary = /** @type {HTMLElement} */ (document.getElementById('summary'));
const details = /** @type {HTMLElement} */ (document.getElementById('details'));

/** @param {string} key */
const label = (key) => key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());

async function load() {
  if (!id) {
    summary.textContent = 'No job was named in the address of this page.';
    return;
  }
  const response = await fetch(`/jobs/${encodeURIComponent(id)}${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  if (!response.ok) {
    summary.textContent = 'The details of this job are no longer available.';
    return;
  }
  const job = await response.json();
  summary.textContent = `Job ${job.id} finished at ${new Date(job.finishedAt).toLocaleTimeString()}.`;
  for (const [key, value] of Object.entries(job.data ?? {})) {
    const term = document.createElement('dt');
    term.textContent = label(key);
    const detail = document.createElement('dd');
    detail.textContent = typeof value === 'object' ? JSON.stringify(value) : String(value);
    details.append(term, detail);
  }
}

load();
