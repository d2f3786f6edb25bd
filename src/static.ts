/**
 * The demo pages and the browser client, bundled into the worker and served by it.
 *
 * They are not Workers Static Assets on purpose: with an `[assets]` directory every request, the
 * API's included (even with `run_worker_first`), passes Cloudflare's asset router before the worker
 * runs. Measured at workerd's own socket as deployed code runs, that hop cost 0.70 of completion
 * throughput and 1.47x the CPU per delivered event (BENCHMARKS.md, "jobcast (assets)"). Eight small
 * files do not need an asset pipeline; each answer carries a content hash as ETag and is
 * revalidated, as Cloudflare's asset handling does.
 */
import demoJs from '../public/demo.js?raw';
import doneHtml from '../public/done.html?raw';
import backoffJs from '../public/backoff.js?raw';
import doneJs from '../public/done.js?raw';
import originalHtml from '../public/examples/original.html?raw';
import indexHtml from '../public/index.html?raw';
import jobcastJs from '../public/jobcast.js?raw';
import stylesCss from '../public/styles.css?raw';

export interface StaticFile {
  body: string;
  contentType: string;
  etag: string;
  /** A module pages on any origin may import (the browser client and what it imports). */
  importable?: boolean;
}

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

function file(body: string, contentType: string, importable = false): StaticFile {
  return { body, contentType, etag: `"${fnv1a(body)}"`, importable };
}

/** By URL path. Pages are served without `.html`; the `.html` path redirects there (see `staticRedirect`). */
export const STATIC_FILES: ReadonlyMap<string, StaticFile> = new Map([
  ['/', file(indexHtml, HTML)],
  ['/done', file(doneHtml, HTML)],
  ['/examples/original', file(originalHtml, HTML)],
  ['/demo.js', file(demoJs, JS)],
  ['/done.js', file(doneJs, JS)],
  ['/jobcast.js', file(jobcastJs, JS, true)],
  ['/backoff.js', file(backoffJs, JS, true)],
  ['/styles.css', file(stylesCss, CSS)],
]);

/** Where a `.html` or `/index` URL of a page moves to, or null. */
export function staticRedirect(pathname: string): string | null {
  const page = pathname.replace(/(?:\/index)?\.html$|\/index$/, '') || '/';
  return page !== pathname && STATIC_FILES.has(page) && STATIC_FILES.get(page)!.contentType === HTML ? page : null;
}

/** `GET`/`HEAD` of a static file: 200 with the body, or 304 when `If-None-Match` names its ETag. */
export function staticResponse(file: StaticFile, request: Request): Response {
  const headers: Record<string, string> = {
    'Content-Type': file.contentType,
    ETag: file.etag,
    // Revalidate every time (cheap: a 304), so a deploy is seen at once.
    'Cache-Control': 'public, max-age=0, must-revalidate',
  };
  if (file.importable) {
    // Browsers fetch module scripts in CORS mode, so a page on another origin can import the client
    // only with this. `*` is safe here: the file is public, the same for everyone, and fetched without
    // credentials (`*` would not be honoured for a credentialed request anyway), as from a CDN.
    // ALLOWED_ORIGINS guards the job routes, whose answers are about one job, not the code.
    headers['Access-Control-Allow-Origin'] = '*';
    // And a page that isolates itself (Cross-Origin-Embedder-Policy: require-corp) may load it too.
    headers['Cross-Origin-Resource-Policy'] = 'cross-origin';
  }
  const ifNoneMatch = request.headers.get('If-None-Match');
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === 'HEAD' ? null : file.body, { headers });
}

/** 32-bit FNV-1a over UTF-16 code units, as hex: a stable content tag, not a security hash. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}
