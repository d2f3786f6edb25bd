import { exports } from 'cloudflare:workers';
import { SseReader } from './sse-client';

export const API_TOKEN = 'test-token-a';
export const ORIGIN = 'http://jobcast.test';

export function newJobId(prefix = 't'): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return (exports as unknown as { default: Fetcher }).default.fetch(new Request(`${ORIGIN}${path}`, init));
}

export function backend(method: string, path: string, body?: unknown, token = API_TOKEN): Promise<Response> {
  return call(path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

export const register = (id: string, body?: unknown) => backend('PUT', `/jobs/${id}`, body);
export const progress = (id: string, body: unknown) => backend('POST', `/jobs/${id}/progress`, body);
export const complete = (id: string, body: unknown) => backend('POST', `/jobs/${id}/complete`, body);
export const fail = (id: string, body: unknown) => backend('POST', `/jobs/${id}/fail`, body);

export async function connect(id: string, headers: Record<string, string> = {}, query = ''): Promise<SseReader> {
  const response = await call(`/sse/connect/${id}${query}`, { headers });
  return new SseReader(response);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
