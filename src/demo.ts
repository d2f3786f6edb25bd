import type { Context } from 'hono';
import { readJsonBody } from './body';
import type { AppEnv } from './config';
import type { JobClient } from './job-protocol';
import { logWarn } from './log';
import { DemoBody } from './schemas';
import { mintSubscribeToken, tokenExpiry } from './subscribe-token';

const STEPS = [
  { progress: 0.1, message: 'Checking your order' },
  { progress: 0.35, message: 'Reserving stock' },
  { progress: 0.6, message: 'Charging your card' },
  { progress: 0.85, message: 'Writing the invoice' },
];

/**
 * The demo's stand-in for a job backend: `POST /demo/jobs` registers a job, reports progress for a
 * few seconds, then completes it (or fails it). It exists under `wrangler dev`, and in a deployed
 * worker only with DEMO_ENABLED=true.
 */
export async function startDemoJob(c: Context<AppEnv>, clientFor: (id: string) => JobClient): Promise<Response> {
  const { outcome = 'result', stepMs = 900 } = await readJsonBody(c.req.raw, DemoBody);
  const id = `demo-${crypto.randomUUID()}`;
  const job = clientFor(id);
  const { job: record } = await job.register(600);
  const config = c.get('config');
  const token = config.signingKey ? await mintSubscribeToken(config.signingKey, id, tokenExpiry(record, config)) : null;
  const query = token ? `?token=${token}` : '';
  c.executionCtx.waitUntil(runDemoJob(job, outcome, stepMs, token));
  return c.json({ id, subscribeUrl: `/sse/connect/${id}${query}`, statusUrl: `/jobs/${id}${query}` }, 201);
}

async function runDemoJob(job: JobClient, outcome: 'result' | 'failed', stepMs: number, token: string | null) {
  const id = job.jobId;
  const pause = () => new Promise((resolve) => setTimeout(resolve, stepMs));
  try {
    for (const step of STEPS) {
      await pause();
      await job.progress(step);
    }
    await pause();
    if (outcome === 'failed') {
      await job.finish({ status: 'failed', error: 'The card was declined by the bank. No money was taken.' });
      return;
    }
    const invoice = `INV-${id.slice(5, 13).toUpperCase()}`;
    const moveUrl = `/done?id=${id}${token ? `&token=${token}` : ''}`;
    await job.finish({
      status: 'result',
      moveUrl,
      data: { invoice, amount: '42.00', currency: 'EUR', items: 3, delivery: 'Tomorrow, 9:00–12:00' },
    });
  } catch (error) {
    logWarn('demo job stopped', { job: id, error: String(error) });
  }
}
