import { EVENT_HISTORY, type JobRecord, type StoredEvent } from './job-state';
import { migrateLegacyTables } from './job-store-legacy';
import type { Outgoing } from './notifications';

/**
 * The job's storage, as keys of the object's key-value store (which Cloudflare keeps in a SQLite table
 * of its own): no table of ours is created, so a job's first write is its record alone.
 * - `job`: the record, rewritten by register, completion and failure;
 * - `e:<slot>`: progress events in a ring of EVENT_HISTORY slots, so a progress event is one row
 *   written, its record fields (`progress`, `message`, `lastEventId`) rebuilt from the latest on load;
 * - `o:<seq>`: notifications to deliver, oldest first, and the grace of a departure (`tentative`).
 * Each put or delete is one row written (test/billing.test.ts counts them).
 */
export class JobStore {
  readonly #kv: SyncKvStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.#kv = storage.kv;
    migrateLegacyTables(storage, this);
  }

  /** The record, with what its progress events added since it was written. */
  loadJob(): JobRecord | null {
    const job = this.#kv.get<JobRecord>('job');
    if (!job) return null;
    const latest = this.loadProgressEvents().at(-1);
    if (!latest || latest.id <= job.lastEventId) return job;
    const { progress, message } = JSON.parse(latest.data) as { progress: number; message?: string };
    return { ...job, progress, message, lastEventId: latest.id };
  }

  /** Progress events, oldest first. The `result` event lives in the job's record (see `terminalEvent`). */
  loadProgressEvents(): StoredEvent[] {
    return [...this.#kv.list<{ id: number; data: string }>({ prefix: 'e:' })]
      .map(([, { id, data }]) => ({ id, name: 'progress' as const, data }))
      .sort((a, b) => a.id - b.id);
  }

  saveJob(job: JobRecord): void {
    this.#kv.put('job', job);
  }

  /** Stores a progress event over the oldest one kept: the record is left as it was. */
  appendProgress(event: StoredEvent): void {
    this.#kv.put(`e:${event.id % EVENT_HISTORY}`, { id: event.id, data: event.data });
  }

  /** Notifications to deliver and the grace of a departure, if one is stored; oldest first. */
  loadOutbox(): Outgoing[] {
    return [...this.#kv.list<Outgoing>({ prefix: 'o:' })].map(([, outgoing]) => outgoing).sort((a, b) => a.seq - b.seq);
  }

  /** Stores a notification (or a departure's grace) under its `seq`, replacing what was there. */
  saveOutgoing(outgoing: Outgoing): void {
    this.#kv.put(outboxKey(outgoing.seq), outgoing);
  }

  dequeue(seq: number): void {
    this.#kv.delete(outboxKey(seq));
  }

  /** Deletes the job and its events but keeps notifications still to deliver. */
  forgetJob(): void {
    this.storage.transactionSync(() => {
      this.#kv.delete('job');
      for (const [key] of this.#kv.list({ prefix: 'e:' })) this.#kv.delete(key);
    });
  }
}

/** Zero-padded, so that the store lists notifications in the order they were made. */
function outboxKey(seq: number): string {
  return `o:${String(seq).padStart(12, '0')}`;
}
