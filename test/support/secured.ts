import { env } from 'cloudflare:workers';
import { createExecutionContext } from 'cloudflare:test';
import type { Env } from '../../src/config';
import worker from '../../src/index';

/** The worker as deployed with every security setting on, over the test runtime's job objects. */
export const SECURED_ENV: Env = {
  ...(env as unknown as Env),
  API_TOKENS: 'rotating-old,rotating-new',
  SIGNING_KEY: 'test-signing-key-0123456789abcdef',
  ALLOWED_REDIRECT_ORIGINS: 'https://shop.example.com, https://pay.example.com:8443',
  ALLOWED_ORIGINS: 'https://app.example.com',
  JOBCAST_LOCAL_DEV: 'false',
};

export const SECURED_TOKEN = 'rotating-new';

export function securedCall(path: string, init: RequestInit = {}, overrides: Partial<Env> = {}): Promise<Response> {
  // Through the worker's own entry, so a connect takes the path a deployed one takes.
  return worker.fetch(new Request(`http://jobcast.test${path}`, init), { ...SECURED_ENV, ...overrides }, createExecutionContext());
}

export function securedBackend(method: string, path: string, body?: unknown, token = SECURED_TOKEN): Promise<Response> {
  return securedCall(path, {
    method,
    headers: { Authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}
