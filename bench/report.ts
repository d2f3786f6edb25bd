// BENCHMARKS.md and its chart, from the medians of every target's runs.
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { Sample } from './metrics.ts';

export type Medians = Record<string, Sample>;

export const METRICS: { key: keyof Sample; label: string; unit: string; better: 'lower' | 'higher'; target?: number; absolute?: boolean }[] = [
  { key: 'm1p50', label: 'M1 notify latency p50', unit: 'ms', better: 'lower', target: 1.25 },
  { key: 'm1p90', label: 'M1 notify latency p90', unit: 'ms', better: 'lower' },
  { key: 'waitCallsMs', label: "one wait's register + connect + complete", unit: 'ms', better: 'lower' },
  { key: 'm2p99', label: 'M2 fan-out to 1,000 streams, p99', unit: 'ms', better: 'lower', target: 1.25 },
  { key: 'm3ConnectsPerS', label: 'M3 connects/s (1,000 jobs)', unit: '/s', better: 'higher', target: 0.8 },
  { key: 'm3CompletionsPerS', label: 'M3 completions/s (1,000 jobs)', unit: '/s', better: 'higher', target: 0.8 },
  { key: 'm3FanoutP99', label: 'M3 fan-out p99 (1,000 jobs)', unit: 'ms', better: 'lower', target: 1.5 },
  // Not a ratio: the target is jobcast's own count, none lost.
  { key: 'm4Errors', label: "M4 errors (not run through wrangler's proxy)", unit: '', better: 'lower', target: 0, absolute: true },
  { key: 'm5CpuMsPerEvent', label: 'M5 server CPU per delivered event', unit: 'ms', better: 'lower' },
  { key: 'm6BytesPerStream', label: 'M6 server memory per open stream', unit: 'B', better: 'lower' },
  { key: 'socketsBefore', label: 'sockets held before the load', unit: '', better: 'lower' },
  { key: 'socketsAfter', label: 'sockets held 1.5 heartbeats after all clients left', unit: '', better: 'lower' },
];

export function median(values: number[]): number {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmt = (value: number) =>
  !Number.isFinite(value) ? 'n/a' : Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
/** Three decimals, so that a ratio shown next to its target is never rounded onto the other side. */
const fmt3 = (value: number) => (Number.isFinite(value) ? value.toFixed(3) : 'n/a');
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);

/** A ratio column: `of` ÷ `to`; `targeted` where the target column applies to it (each mode against its own floor). */
interface Ratio {
  of: string;
  to: string;
  targeted: boolean;
}

export const RATIOS: Ratio[] = [
  { of: 'jobcast', to: 'relay floor', targeted: true },
  { of: 'jobcast (HIBERNATE=false)', to: 'floor+storage', targeted: true },
  { of: 'jobcast', to: 'jobcast (HIBERNATE=false)', targeted: false },
  { of: 'jobcast', to: 'node', targeted: false },
  { of: 'jobcast (assets)', to: 'jobcast', targeted: false },
];

/** Whether `value` (a ratio, or for an absolute target the count itself) meets the metric's target. */
function meets(value: number, better: 'lower' | 'higher', target: number): boolean {
  return better === 'lower' ? value <= target : value >= target;
}

/**
 * The table of medians, every target a column, then the ratios between targets measured in the same
 * run: first those the targets apply to, each cell marked met (✓) or missed (✗), then the others.
 */
export function table(medians: Medians): string {
  const names = Object.keys(medians);
  const ratios = RATIOS.filter(({ of, to }) => medians[of] && medians[to]);
  const heading = ({ of, to, targeted }: Ratio) => `${of} ÷ ${to}${targeted ? ' (target)' : ' (no target)'}`;
  let out = `| metric | ${names.join(' | ')} | target | ${ratios.map(heading).join(' | ')} |\n`;
  out += `|---|${names.map(() => '---:').join('|')}|---:|${ratios.map(() => '---:').join('|')}|\n`;
  for (const { key, label, unit, better, target, absolute } of METRICS) {
    const row = names.map((name) => `${fmt(medians[name][key])}${unit && Number.isFinite(medians[name][key]) ? ` ${unit}` : ''}`);
    const goal = target === undefined ? '' : absolute ? `${target}` : `${better === 'lower' ? '≤' : '≥'} ${target}`;
    const cells = ratios.map(({ of, to, targeted }) => {
      const value = absolute ? (targeted ? medians[of][key] : NaN) : ratio(medians[of][key], medians[to][key]);
      const shown = absolute ? fmt(value) : fmt3(value);
      if (!targeted || target === undefined || !Number.isFinite(value)) return shown;
      return `${shown} ${meets(value, better, target) ? '✓' : '✗'}`;
    });
    out += `| ${label} | ${row.join(' | ')} | ${goal} | ${cells.join(' | ')} |\n`;
  }
  const targeted = ratios.filter((r) => r.targeted).map((r) => `${r.of} ÷ ${r.to}`);
  if (targeted.length > 0) {
    out += `\nThe target column applies to ${targeted.join(' and ')} only (each waiting mode against its own floor; M4: the count of errors itself). The other ratio columns have no target.\n`;
  }
  return out;
}

/** Where the machine and the command are named above the table. */
export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${execSync('uname -sr').toString().trim()}, Node ${process.version}`;
}

/** The ratios the targets apply to (each mode ÷ its floor) and jobcast ÷ node, as a bar chart rendered by headless Chromium. */
export async function chart(medians: Medians, path: string): Promise<boolean> {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return false;
  }
  const pairs = [
    { of: 'jobcast', to: 'relay floor', label: '÷ relay floor', color: '#3b5bdb' },
    { of: 'jobcast (HIBERNATE=false)', to: 'floor+storage', label: '(HIBERNATE=false) ÷ floor+storage', color: '#2f9e44' },
    { of: 'jobcast', to: 'node', label: '÷ node', color: '#f08c00' },
  ];
  const rows = METRICS.filter((m) => m.target !== undefined && !m.absolute).map((m) => ({
    label: m.label,
    ratios: pairs.map((p) => ratio(medians[p.of]?.[m.key], medians[p.to]?.[m.key])),
    target: m.target!,
  }));
  // Log scale from 0.05× to 50×: the Node peer is an order of magnitude away, the floors are near 1.
  const [lo, hi] = [Math.log10(0.05), Math.log10(50)];
  const x = (v: number) => 300 + ((Math.log10(Math.min(Math.max(v, 0.05), 50)) - lo) / (hi - lo)) * 520;
  const bars = rows
    .map((r, i) => {
      const y = 60 + i * 86;
      const lines = r.ratios
        .map((v, j) => {
          if (!Number.isFinite(v)) return '';
          const top = y + j * 22;
          const [a, b] = [Math.min(x(1), x(v)), Math.max(x(1), x(v))];
          return `<rect x="${a}" y="${top}" width="${Math.max(1, b - a)}" height="18" fill="${pairs[j].color}"/><text x="${b + 6}" y="${top + 14}" font-size="12">${fmt(v)}× jobcast ${pairs[j].label}</text>`;
        })
        .join('');
      return `<text x="10" y="${y + 26}" font-size="13">${r.label}</text>${lines}
      <line x1="${x(r.target)}" x2="${x(r.target)}" y1="${y - 4}" y2="${y + 66}" stroke="#c92a2a" stroke-dasharray="4 3"/>`;
    })
    .join('\n');
  const height = 80 + rows.length * 86;
  const ticks = [0.1, 0.5, 1, 2, 10]
    .map((t) => `<line x1="${x(t)}" x2="${x(t)}" y1="40" y2="${height - 20}" stroke="#ddd"/><text x="${x(t) - 8}" y="${height - 6}" font-size="11">${t}×</text>`)
    .join('');
  const html = `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="${height}" font-family="sans-serif">
    <rect width="900" height="${height}" fill="white"/>
    <text x="10" y="24" font-size="15" font-weight="bold">jobcast ÷ each peer, log scale (bars grow from 1×); dashed red: the target, vs each mode's floor</text>
    ${ticks}<line x1="${x(1)}" x2="${x(1)}" y1="40" y2="${height - 20}" stroke="#888"/>
    ${bars}</svg>`;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] }).catch(() => null);
  if (!browser) return false;
  const page = await browser.newPage({ viewport: { width: 900, height } });
  await page.setContent(`<body style="margin:0">${html}</body>`);
  await page.screenshot({ path });
  await browser.close();
  return true;
}

/**
 * Replaces what lies between the page's generated markers (`<!-- generated: start -->`, or
 * `<!-- generated hibernate: start -->` for `section` "hibernate"); everything around them is written by hand.
 */
export function writeGenerated(path: string, generated: string, section = ''): void {
  const [start, end] = ['start', 'end'].map((edge) => `<!-- generated${section ? ` ${section}` : ''}: ${edge} -->`);
  const page = readFileSync(path, 'utf8');
  const [from, to] = [page.indexOf(start), page.indexOf(end)];
  if (from < 0 || to < from) throw new Error(`${path} has no ${start} … ${end} section to write into`);
  writeFileSync(path, `${page.slice(0, from + start.length)}\n${generated.trim()}\n${page.slice(to)}`);
}
