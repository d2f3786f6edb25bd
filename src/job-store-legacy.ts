import { EVENT_HISTORY, type JobRecord } from './job-state';
import type { JobStore } from './job-store';
import { tentativeVacancy, type Outgoing } from './notifications';

/** The tables the releases before the key-value layout wrote (their DDL is in test/migration.test.ts). */
const LEGACY_TABLES = ['job', 'events', 'outbox'];

/**
 * Moves a job stored by an earlier release into the key-value layout, once, in one transaction, and
 * drops its tables: an object that was waiting, with its events, a departure's grace (`vacantAt`)
 * and notifications still to deliver, carries on where it was. An object without them costs one read.
 */
export function migrateLegacyTables(storage: DurableObjectStorage, store: JobStore): void {
  const sql = storage.sql;
  const found = sql
    .exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${LEGACY_TABLES.map(() => '?').join(', ')})`, ...LEGACY_TABLES)
    .toArray()
    .map((row) => row.name);
  if (found.length === 0) return;
  storage.transactionSync(() => {
    const outbox: Outgoing[] = found.includes('outbox')
      ? sql
          .exec<{ seq: number; id: string; type: Outgoing['type']; body: string; attempts: number; first_at: number; next_at: number }>('SELECT * FROM outbox ORDER BY seq')
          .toArray()
          .map((row) => ({ seq: row.seq, id: row.id, type: row.type, body: row.body, attempts: row.attempts, firstAt: row.first_at, nextAt: row.next_at }))
      : [];
    for (const outgoing of outbox) store.saveOutgoing(outgoing);
    const row = found.includes('job') ? sql.exec<{ record: string }>('SELECT record FROM job LIMIT 1').toArray()[0] : undefined;
    if (row) {
      const { vacantAt, ...job } = JSON.parse(row.record) as JobRecord & { vacantAt?: number };
      store.saveJob(job);
      if (job.status === 'pending' && vacantAt !== undefined) {
        store.saveOutgoing(tentativeVacancy((outbox.at(-1)?.seq ?? 0) + 1, vacantAt));
      }
      if (found.includes('events')) {
        const events = sql.exec<{ id: number; data: string }>("SELECT id, data FROM events WHERE name = 'progress' ORDER BY id DESC LIMIT ?", EVENT_HISTORY).toArray();
        for (const event of events.reverse()) store.appendProgress({ id: event.id, name: 'progress', data: event.data });
      }
    }
    for (const table of found) sql.exec(`DROP TABLE ${table}`);
  });
}
