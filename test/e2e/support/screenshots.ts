import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Page } from 'playwright-core';

const STILL_FOR_MS = 150;
const GIVE_UP_MS = 10_000;

/**
 * Writes a screenshot of `page` once it has settled: two pictures STILL_FOR_MS apart are the same,
 * and a visible progress bar is drawn as full as the percent printed beside it. The bar's width
 * transition runs in the browser's own shadow tree, where neither `getAnimations()` nor
 * `transitionend` reach, so the picture itself is measured. (The README's page A was once taken
 * mid-transition: the bar at about 10% beside "35%".)
 */
export async function screenshotSettled(page: Page, path: string): Promise<{ percent: string | null }> {
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  const deadline = Date.now() + GIVE_UP_MS;
  let previous = null as Buffer | null;
  let last = '';
  while (Date.now() < deadline) {
    const shot = await page.screenshot();
    if (previous?.equals(shot)) {
      const bar = await barAgreement(page, shot);
      if (bar.agrees) {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, shot);
        return { percent: bar.percent };
      }
      last = bar.detail;
    }
    previous = shot;
    await page.waitForTimeout(STILL_FOR_MS);
  }
  throw new Error(`${path}: the page did not settle within ${GIVE_UP_MS} ms (${last || 'it kept changing'})`);
}

/** Whether the picture's #bar, if shown, is filled as far as the #percent text beside it says. */
async function barAgreement(page: Page, shot: Buffer): Promise<{ agrees: boolean; percent: string | null; detail: string }> {
  return page.evaluate(async (png) => {
    const bar = document.getElementById('bar');
    const percent = document.getElementById('percent');
    if (!bar || !percent || bar.getClientRects().length === 0) return { agrees: true, percent: null, detail: '' };
    const said = Number.parseFloat(percent.textContent ?? '');
    const box = bar.getBoundingClientRect();
    const image = new Image();
    image.src = `data:image/png;base64,${png}`;
    await image.decode();
    const canvas = new OffscreenCanvas(image.width, image.height);
    const context = canvas.getContext('2d')!;
    context.drawImage(image, 0, 0);
    const row = context.getImageData(Math.round(box.left), Math.round(box.top + box.height / 2), Math.round(box.width), 1).data;
    // The track's colour, a few pixels in from its rounded end (below 99%); the fill is what differs from it.
    const end = row.length - 16;
    const track = said >= 99 ? null : [row[end], row[end + 1], row[end + 2]];
    let filled = 0;
    for (let x = 0; x < row.length; x += 4) {
      const distance = track ? Math.abs(row[x] - track[0]) + Math.abs(row[x + 1] - track[1]) + Math.abs(row[x + 2] - track[2]) : 255;
      if (distance > 60) filled++;
    }
    const shown = (100 * filled) / Math.round(box.width);
    return { agrees: Math.abs(shown - said) <= 1.5, percent: percent.textContent, detail: `the bar drawn at ${shown.toFixed(1)}% beside "${percent.textContent}"` };
  }, shot.toString('base64'));
}
