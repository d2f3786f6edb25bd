/**
 * Whether `moveUrl` may be handed to a browser as the place to go next: a same-origin path, or an
 * absolute http(s) URL on an allowed origin. Everything else could turn jobcast into an open redirect.
 */
/** `allowedOrigins` are normalised origins, as `readConfig` gives them. */
export function isAllowedRedirect(moveUrl: string, allowedOrigins: readonly string[]): boolean {
  // Control characters and backslashes are rewritten or dropped by URL parsers, which is how
  // "/\evil.example" and "java\tscript:" get past naive checks; spaces at the ends likewise.
  if (/[\u0000-\u001f\u007f\\]/.test(moveUrl) || moveUrl.trim() !== moveUrl || moveUrl === '') return false;
  if (moveUrl.startsWith('/')) return !moveUrl.startsWith('//') && resolvesToSameOrigin(moveUrl);
  let url: URL;
  try {
    url = new URL(moveUrl);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (url.username !== '' || url.password !== '') return false;
  return allowedOrigins.includes(url.origin);
}

const PROBE_ORIGIN = 'https://jobcast.invalid';

function resolvesToSameOrigin(path: string): boolean {
  try {
    return new URL(path, PROBE_ORIGIN).origin === PROBE_ORIGIN;
  } catch {
    return false;
  }
}
