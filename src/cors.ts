import type { Config } from './config';

/** CORS for the browser routes only: backend routes are called server to server. */
export function corsHeaders(origin: string | null, config: Config): Record<string, string> | null {
  if (origin === null) return null;
  const { allowedOrigins } = config;
  if (allowedOrigins.includes('*')) return { 'Access-Control-Allow-Origin': '*' };
  if (!allowedOrigins.includes(origin)) return null;
  return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
}

/** `response` with the CORS headers `origin` gets, if any (a copy: a fetched response's headers are immutable). */
export function withCors(response: Response, origin: string | null, config: Config): Response {
  const headers = corsHeaders(origin, config);
  if (!headers) return response;
  const copy = new Response(response.body, response);
  for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value);
  return copy;
}

export function preflightHeaders(origin: string | null, config: Config, methods: string): Record<string, string> {
  const allowed = corsHeaders(origin, config);
  if (!allowed) return { Vary: 'Origin' };
  return {
    ...allowed,
    'Access-Control-Allow-Methods': methods,
    'Access-Control-Allow-Headers': 'Authorization, Last-Event-ID, Cache-Control',
    'Access-Control-Max-Age': '600',
  };
}
