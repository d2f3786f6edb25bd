import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { vi } from 'vitest';
import { readConfig } from '../../src/config';
import { JobObject } from '../../src/job-object';
import { connectRequest } from '../../src/job-protocol';
import { newJobId } from './http';

/**
 * A job's object with settings of the test's own (notifications on, say), driven through its calls
 * inside the runtime's object for that id, with a clock of the test's: its alarms run when the test
 * moves the clock to them, not when the runtime would.
 */
export const HIBERNATE = readConfig(env).hibernate;
export const WEBHOOK = { WEBHOOK_URL: 'https://backend.example/hooks', WEBHOOK_SECRET: 'harness-secret-0123456789abcdef012345' };

export interface Harness {
  job: JobObject;
  state: DurableObjectState;
  id: string;
  clock: { now: number };
}

export async function withJobObject(vars: Record<string, string>, steps: (harness: Harness) => Promise<void>, id = newJobId('h')): Promise<void> {
  const stub = env.JOBS.get(env.JOBS.idFromName(id));
  await runInDurableObject(stub, async (_runtime: JobObject, state) => {
    const clock = { now: Date.now() };
    vi.spyOn(Date, 'now').mockImplementation(() => clock.now);
    try {
      await steps({ job: new JobObject(state, { ...env, ...vars }), state, id, clock });
    } finally {
      vi.mocked(Date.now).mockRestore();
      await state.storage.deleteAll();
    }
  });
}

/** Runs every alarm the object arms, each at its time, up to `until`. */
export async function runAlarms({ job, state, clock }: Harness, until = Infinity): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const at = await state.storage.getAlarm();
    if (at === null || at > until) break;
    clock.now = Math.max(clock.now, at);
    await job.alarm();
  }
  clock.now = Math.max(clock.now, Math.min(until, clock.now + 1));
}

/** One browser on the job, as the object sees it in this mode; `leave` is its departure. */
export async function watch({ job, state, id }: Harness) {
  const response = await job.fetch(connectRequest(id, '', HIBERNATE));
  if (HIBERNATE) {
    const client = response.webSocket!;
    client.accept();
    const server = state.getWebSockets().at(-1)!;
    // What a relay does when its browser leaves: it closes its end, which the object hears of.
    return {
      leave: async () => {
        client.close(1001, 'departed');
        await new Promise((resolve) => setTimeout(resolve, 20));
        job.webSocketClose(server, 1001, 'departed');
      },
    };
  }
  const reader = response.body!.getReader();
  await reader.read();
  return { leave: () => reader.cancel() };
}

/** Notifications POSTed by the object, answered `status`. */
export function receiver(status = 204): { bodies: string[]; signatures: string[] } {
  const got = { bodies: [] as string[], signatures: [] as string[] };
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (_url, init) => {
    got.bodies.push(String(init?.body));
    got.signatures.push(new Headers(init?.headers).get('Jobcast-Signature') ?? '');
    return new Response(null, { status });
  });
  return got;
}

export const types = (bodies: string[]) => bodies.map((body) => (JSON.parse(body) as { type: string }).type);
