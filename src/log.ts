/** One JSON object per line, so `wrangler tail` and Workers Logs can filter on fields. Never pass tokens. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export function logInfo(msg: string, fields: LogFields = {}): void {
  console.log(JSON.stringify({ level: 'info', msg, ...fields }));
}

export function logWarn(msg: string, fields: LogFields = {}): void {
  console.warn(JSON.stringify({ level: 'warn', msg, ...fields }));
}

export function logError(msg: string, fields: LogFields = {}): void {
  console.error(JSON.stringify({ level: 'error', msg, ...fields }));
}

/**
 * Records of the same kind, written together: one line per record when calls come one at a time
 * (written `BATCH_MS` after it), one line per burst (at most `BATCH_SIZE` records, `BATCH_MS` apart)
 * under load. Under wrangler dev a line written from the batch's timer costs 3–4 ms of CPU across the
 * runtime and wrangler's own processes (`npm run bench:layers`, BENCHMARKS.md): with a 50 ms window a
 * line carried ~20 calls under load, ~0.2 ms per call; with a second's window lines fill up to
 * `BATCH_SIZE` first.
 */
export const BATCH_MS = 1000;
const BATCH_SIZE = 100;
const batches = new Map<string, { records: LogFields[]; flushed: Promise<void> }>();

/** Returns the flush to wait for when this record opened a new batch, and null when it joined one. */
export function logInBatch(msg: string, record: LogFields): Promise<void> | null {
  let batch = batches.get(msg);
  let opened = false;
  if (!batch) {
    opened = true;
    const records: LogFields[] = [];
    const flushed = new Promise<void>((done) =>
      setTimeout(() => {
        if (batches.get(msg)?.records === records) batches.delete(msg);
        flush(msg, records);
        done();
      }, BATCH_MS),
    );
    batch = { records, flushed };
    batches.set(msg, batch);
  }
  batch.records.push(record);
  if (batch.records.length >= BATCH_SIZE) {
    batches.delete(msg);
    flush(msg, batch.records.splice(0));
  }
  return opened ? batch.flushed : null;
}

function flush(msg: string, records: LogFields[]): void {
  if (records.length === 1) logInfo(msg, records[0]);
  else if (records.length > 1) console.log(JSON.stringify({ level: 'info', msg, count: records.length, records }));
}
