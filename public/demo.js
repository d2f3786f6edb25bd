// Page A of the demo: start a job (or wait for ?id=…&token=…), show its progress, move on when done.
import { redirectWhenDone } from './jobcast.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const bar = /** @type {HTMLProgressElement} */ ($('bar'));

/** @param {'start' | 'waiting' | 'failed'} name */
function show(name) {
  for (const section of ['start', 'waiting', 'failed']) $(section).hidden = section !== name;
  if (name !== 'start') $(`${name}-title`).focus();
}

/** @param {{ progress: number, message?: string }} update */
function showProgress({ progress, message }) {
  const percent = Math.round(progress * 100);
  bar.value = percent;
  bar.setAttribute('aria-valuetext', `${percent}%${message ? `, ${message}` : ''}`);
  $('percent').textContent = `${percent}%`;
  if (message) $('message').textContent = message;
}

/** @param {string} id @param {string | undefined} token */
async function wait(id, token) {
  showProgress({ progress: 0, message: 'Waiting for the backend to start…' });
  show('waiting');
  try {
    await redirectWhenDone({
      id,
      token,
      onProgress: showProgress,
      onFailed: (/** @type {import('./jobcast.js').JobFailure} */ outcome) => {
        $('failed-reason').textContent = outcome.error ?? 'Something went wrong on our side. Nothing was charged.';
        show('failed');
      },
    });
  } catch (error) {
    $('failed-reason').textContent = 'We lost track of your order. Please try again.';
    show('failed');
    console.warn('jobcast: stopped waiting', error);
  }
}

/** @param {'result' | 'failed'} outcome */
async function start(outcome) {
  const response = await fetch('/demo/jobs', { method: 'POST', body: JSON.stringify({ outcome }) });
  if (!response.ok) {
    $('failed-reason').textContent =
      response.status === 404
        ? 'The demo backend is off here. It runs under wrangler dev, or with DEMO_ENABLED=true.'
        : 'The demo backend did not start a job. Please try again.';
    show('failed');
    return;
  }
  const job = await response.json();
  const token = new URL(job.subscribeUrl, location.origin).searchParams.get('token') ?? undefined;
  history.replaceState(null, '', `?id=${encodeURIComponent(job.id)}${token ? `&token=${encodeURIComponent(token)}` : ''}`);
  await wait(job.id, token);
}

$('run').addEventListener('click', () => start('result'));
$('run-fail').addEventListener('click', () => start('failed'));
$('retry').addEventListener('click', () => {
  history.replaceState(null, '', location.pathname);
  show('start');
  $('run').focus();
});

const params = new URLSearchParams(location.search);
const waitingFor = params.get('id');
if (waitingFor) wait(waitingFor, params.get('token') ?? undefined);
