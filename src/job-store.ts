import type { JobRecord, StoredEvent } from './job-state';
import type { Outgoing } from './notifications';
import type { NotificationType } from './webhook-signature';

/**
 * The job's SQLite tables. They are created by the first write, so reading a job that does not exist
 * leaves no storage behind.
 */
export class JobStore {
  #schemaReady = false;

  constructor(private readonly storage: DurableObjectStorage) {}

  loadJob(): JobRecord | null {
    if (!this.#hasSchema()) return null;
    const row = this.storage.sql.exec<{ record: string }>('SELECT record FROM job LIMIT 1').toArray()[0];
    return row ? (JSON.parse(row.record) as JobRecord) : null;
  }

  /** Progress events, oldest first. The `result` event lives in the job row (see `terminalEvent`). */
  loadProgressEvents(): StoredEvent[] {
    if (!this.#hasSchema()) return [];
    return this.storage.sql
      .exec<{ id: number; data: string }>("SELECT id, data FROM events WHERE name = 'progress' ORDER BY id")
      .toArray()
      .map(({ id, data }) => ({ id, name: 'progress', data }));
  }

  saveJob(job: JobRecord): void {
    this.#ensureSchema();
    // An upsert changes the existing row in place; REPLACE would delete and re-insert it and its
    // primary-key index entry on every progress and completion.
    this.storage.sql.exec(
      'INSERT INTO job (id, record) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record',
      job.id,
      JSON.stringify(job),
    );
  }

  /** Stores a progress event and the record it produced together, dropping events older than `keepAfter`. */
  appendProgress(job: JobRecord, event: StoredEvent, keepAfter: number): void {
    this.storage.transactionSync(() => {
      this.saveJob(job);
      this.storage.sql.exec('INSERT INTO events (id, name, data) VALUES (?, ?, ?)', event.id, event.name, event.data);
      if (keepAfter > 0) this.storage.sql.exec('DELETE FROM events WHERE id <= ?', keepAfter);
    });
  }

  /** Backend notifications not yet delivered, oldest first; none when there never were any. */
  loadOutbox(): Outgoing[] {
    const found = this.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").toArray().length;
    if (!found) return [];
    return this.storage.sql
      .exec<{ seq: number; id: string; type: NotificationType; body: string; attempts: number; first_at: number; next_at: number }>('SELECT * FROM outbox ORDER BY seq')
      .toArray()
      .map((row) => ({ seq: row.seq, id: row.id, type: row.type, body: row.body, attempts: row.attempts, firstAt: row.first_at, nextAt: row.next_at }));
  }

  /** Stores a notification to deliver, after every one stored before it. */
  enqueue(id: string, type: NotificationType, body: string, now: number): Outgoing {
    this.#ensureSchema();
    // Its own statement: a job stored before notifications existed has the other tables only.
    this.storage.sql.exec(OUTBOX_TABLE);
    const seq = this.storage.sql
      .exec<{ seq: number }>('INSERT INTO outbox (id, type, body, attempts, first_at, next_at) VALUES (?, ?, ?, 0, ?, ?) RETURNING seq', id, type, body, now, now)
      .one().seq;
    return { seq, id, type, body, attempts: 0, firstAt: now, nextAt: now };
  }

  retryLater(outgoing: Outgoing): void {
    this.storage.sql.exec('UPDATE outbox SET attempts = ?, first_at = ?, next_at = ? WHERE seq = ?', outgoing.attempts, outgoing.firstAt, outgoing.nextAt, outgoing.seq);
  }

  dequeue(seq: number): void {
    this.storage.sql.exec('DELETE FROM outbox WHERE seq = ?', seq);
  }

  /** Deletes the job and its events but keeps notifications still to deliver. */
  forgetJob(): void {
    if (!this.#hasSchema()) return;
    this.storage.sql.exec('DELETE FROM job; DELETE FROM events;');
  }

  /** After `deleteAll()` the tables are gone and must be made again by the next write. */
  forget(): void {
    this.#schemaReady = false;
  }

  #hasSchema(): boolean {
    if (this.#schemaReady) return true;
    const found = this.storage.sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'job'")
      .toArray().length;
    this.#schemaReady = found > 0;
    return this.#schemaReady;
  }

  #ensureSchema(): void {
    if (this.#schemaReady) return;
    this.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS job (id TEXT PRIMARY KEY, record TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL);
    `);
    this.#schemaReady = true;
  }
}

const OUTBOX_TABLE = `CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL,
  attempts INTEGER NOT NULL, first_at INTEGER NOT NULL, next_at INTEGER NOT NULL
)`;
