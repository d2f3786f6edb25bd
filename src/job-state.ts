/** A job's persisted record and the pure rules over it: views, event payloads, replay, idempotency. */
import type { JobView } from './schemas';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type JobStatus = 'pending' | 'result' | 'failed';
export type TerminalStatus = Exclude<JobStatus, 'pending'>;

export interface JobRecord {
  id: string;
  status: JobStatus;
  createdAt: number;
  expiresAt: number;
  lastEventId: number;
  progress?: number;
  message?: string;
  finishedAt?: number;
  moveUrl?: string;
  data?: JsonObject;
  error?: string;
}

export interface StoredEvent {
  id: number;
  name: 'progress' | 'result';
  data: string;
}

export interface Terminal {
  status: TerminalStatus;
  moveUrl?: string;
  data?: JsonObject;
  error?: string;
}

/** At least this many of a job's latest events stay available for `Last-Event-ID` resumes. */
export const EVENT_HISTORY = 100;

export function toView(job: JobRecord, listeners: number): JobView {
  return {
    id: job.id,
    status: job.status,
    progress: job.progress,
    message: job.message,
    moveUrl: job.moveUrl,
    data: job.data,
    error: job.error,
    lastEventId: job.lastEventId,
    createdAt: new Date(job.createdAt).toISOString(),
    finishedAt: job.finishedAt === undefined ? undefined : new Date(job.finishedAt).toISOString(),
    listeners,
  };
}

export function progressPayload(progress: number, message: string | undefined): string {
  return JSON.stringify({ status: 'progress', progress, message });
}

/** The `result` event's data. Fixed key order, so the live event and every replay are the same bytes. */
export function terminalPayload(terminal: Terminal): string {
  const { status, moveUrl, data, error } = terminal;
  return JSON.stringify({ status, moveUrl, data, error });
}

/** What a finished job finished with, as the backend sent it; null while it is pending. */
export function terminalOf(job: JobRecord): Terminal | null {
  if (job.status === 'pending') return null;
  return { status: job.status, moveUrl: job.moveUrl, data: job.data, error: job.error };
}

/**
 * A finished job's `result` event, rebuilt from its record: the terminal event is always the job's
 * last, and the record is the only place it is stored, so finishing a job is one row written.
 */
export function terminalEvent(job: JobRecord): StoredEvent | null {
  const terminal = terminalOf(job);
  return terminal && { id: job.lastEventId, name: 'result', data: terminalPayload(terminal) };
}

/** Key order does not make two `data` objects different. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** True when `terminal` is what the finished `job` already finished with: a repeat, not a change. */
export function isSameTerminal(job: JobRecord, terminal: Terminal): boolean {
  const stored = terminalOf(job);
  return stored !== null && canonicalJson(stored) === canonicalJson(terminal);
}

/** `Last-Event-ID` as sent by EventSource: a decimal event id, anything else means "no resume point". */
export function parseLastEventId(raw: string | null | undefined): number | null {
  if (raw === null || raw === undefined) return null;
  const trimmed = raw.trim();
  return /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : null;
}

/** True when a resume point shows the client already has the terminal event: answer 204. */
export function isPastEnd(job: JobRecord, resumeFrom: number | null): boolean {
  return resumeFrom !== null && job.status !== 'pending' && resumeFrom >= job.lastEventId;
}

/**
 * The events a connecting client is owed. A resume point inside the kept history gets everything
 * after it; no resume point, one the job never reached, or one older than the history gets a first
 * join: the latest progress, then the terminal result if there is one.
 */
export function eventsToReplay(
  job: JobRecord,
  history: readonly StoredEvent[],
  resumeFrom: number | null,
): StoredEvent[] {
  const oldestKept = history.length > 0 ? history[0].id : job.lastEventId + 1;
  const resumable = resumeFrom !== null && resumeFrom <= job.lastEventId && resumeFrom >= oldestKept - 1;
  if (resumable) return history.filter((event) => event.id > resumeFrom);
  const replay: StoredEvent[] = [];
  const latestProgress = history.findLast((event) => event.name === 'progress');
  if (latestProgress) replay.push(latestProgress);
  const terminal = history.at(-1);
  if (terminal && terminal.name === 'result') replay.push(terminal);
  return replay;
}
