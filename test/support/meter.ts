/**
 * Counts what Cloudflare bills as rows written, as its Durable Objects pricing page states it
 * (https://developers.cloudflare.com/durable-objects/platform/pricing/, "SQLite storage backend"):
 * - each SQL statement's `rowsWritten`, read from its cursor once the statement has run;
 * - footnote 2: key-value methods (`put()`, `delete()`) run against a hidden SQLite table and are
 *   billed as rows: one per key put or deleted;
 * - footnote 3: each `setAlarm()` is billed as a single row written;
 * - footnote 4: deletes are counted as rows written. The page gives no figure for `deleteAlarm()`
 *   or `deleteAll()`, so each is counted as one row: a delete of the alarm, a delete of the object's
 *   storage (its rows are not removed one by one: the database is dropped).
 * The meter patches the storage prototypes of the isolate the objects run in (the test's own).
 */
export interface Tally {
  sql: number;
  kv: number;
  setAlarm: number;
  deleteAlarm: number;
  deleteAll: number;
  /** Rows written to the notification outbox (its statements or keys), a part of the above. */
  outbox: number;
}

export const total = (t: Tally) => t.sql + t.kv + t.setAlarm + t.deleteAlarm + t.deleteAll;

type Cursor = { rowsWritten: number };
const empty = (): Tally => ({ sql: 0, kv: 0, setAlarm: 0, deleteAlarm: 0, deleteAll: 0, outbox: 0 });

export class Meter {
  #pending: { cursor: Cursor; outbox: boolean }[] = [];
  #tally = empty();
  readonly #restore: (() => void)[] = [];

  constructor(storage: DurableObjectStorage) {
    const self = this;
    const patch = <T extends object>(proto: T, name: keyof T & string, count: (args: unknown[], result: unknown) => void) => {
      const original = proto[name] as unknown as (...args: unknown[]) => unknown;
      (proto as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
        const result = original.apply(this, args);
        count(args, result);
        return result;
      };
      this.#restore.push(() => void ((proto as Record<string, unknown>)[name] = original));
    };
    patch(Object.getPrototypeOf(storage.sql), 'exec', (args, cursor) => {
      self.#pending.push({ cursor: cursor as Cursor, outbox: /outbox/i.test(String(args[0])) });
    });
    const storageProto = Object.getPrototypeOf(storage);
    patch(storageProto, 'setAlarm', () => void self.#tally.setAlarm++);
    patch(storageProto, 'deleteAlarm', () => void self.#tally.deleteAlarm++);
    patch(storageProto, 'deleteAll', () => void self.#tally.deleteAll++);
    if ('kv' in storage) {
      const kvProto = Object.getPrototypeOf(storage.kv);
      const kvCount = (args: unknown[]) => {
        self.#tally.kv++;
        if (/^(o:|vacancy)/.test(String(args[0]))) self.#tally.outbox++;
      };
      patch(kvProto, 'put', kvCount);
      patch(kvProto, 'delete', kvCount);
    }
  }

  /** What was written since the last call. */
  take(): Tally {
    for (const { cursor, outbox } of this.#pending) {
      this.#tally.sql += cursor.rowsWritten;
      if (outbox) this.#tally.outbox += cursor.rowsWritten;
    }
    this.#pending = [];
    const taken = this.#tally;
    this.#tally = empty();
    return taken;
  }

  stop(): void {
    for (const restore of this.#restore.reverse()) restore();
  }
}
