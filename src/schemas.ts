// zod/mini: the same validation and JSON Schema as zod, as functions a bundler can leave out when
// unused (the classic chainable API pulls the whole library, and its 64 locales, into the worker).
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// English error messages, as the classic API has by default: `400 invalid_body` quotes them.
z.config(en());

/** One schema per request body; unknown fields are rejected so a typo is an error, not a silent no-op. */
export const MAX_TTL_SECONDS = 30 * 86_400;
const MAX_URL_LENGTH = 2048;
const MAX_TEXT_LENGTH = 1000;

const text = (maxLength: number) => z.string().check(z.maxLength(maxLength));
const wholeNumber = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

export const RegisterBody = z.strictObject({
  ttlSeconds: z.optional(wholeNumber(1, MAX_TTL_SECONDS)),
});

export const ProgressBody = z.strictObject({
  progress: z.number().check(z.minimum(0), z.maximum(1)),
  message: z.optional(text(MAX_TEXT_LENGTH)),
});

export const CompleteBody = z.strictObject({
  moveUrl: text(MAX_URL_LENGTH),
  data: z.optional(z.record(z.string(), z.json())),
});

export const DemoBody = z.strictObject({
  outcome: z.optional(z.enum(['result', 'failed'])),
  stepMs: z.optional(wholeNumber(0, 5000)),
});

export const FailBody = z.strictObject({
  moveUrl: z.optional(text(MAX_URL_LENGTH)),
  error: z.optional(text(MAX_TEXT_LENGTH)),
});

// Answers, for the OpenAPI document (and its tests, which check real answers against it).
const JobStatus = z.enum(['pending', 'result', 'failed']);
const JsonObject = z.record(z.string(), z.json());

export const Registered = z.object({
  id: z.string(),
  status: JobStatus,
  subscribeUrl: z.string(),
  statusUrl: z.string(),
  /** The subscribe token in subscribeUrl and statusUrl, for the page; only when SIGNING_KEY is set. */
  token: z.optional(z.string()),
  expiresAt: z.iso.datetime(),
});

const count = (min: number) => z.int().check(z.minimum(min));

export const Published = z.object({
  eventId: count(1),
  delivered: count(0),
  duplicate: z.optional(z.literal(true)),
});

export const JobView = z.object({
  id: z.string(),
  status: JobStatus,
  progress: z.optional(z.number().check(z.minimum(0), z.maximum(1))),
  message: z.optional(z.string()),
  moveUrl: z.optional(z.string()),
  data: z.optional(JsonObject),
  error: z.optional(z.string()),
  lastEventId: count(0),
  createdAt: z.iso.datetime(),
  finishedAt: z.optional(z.iso.datetime()),
  /** Open streams on the job now (a departed browser counts until a failed write reveals it). */
  listeners: count(0),
});

export const DemoStarted = z.object({ id: z.string(), subscribeUrl: z.string(), statusUrl: z.string() });
export const Health = z.object({ ok: z.literal(true) });

// The TypeScript shapes of the same requests and answers, for the worker and the SDK alike.
export type RegisterRequest = z.input<typeof RegisterBody>;
export type ProgressRequest = z.input<typeof ProgressBody>;
export type CompleteRequest = z.input<typeof CompleteBody>;
export type FailRequest = z.input<typeof FailBody>;
export type Registered = z.output<typeof Registered>;
export type Published = z.output<typeof Published>;
export type JobView = z.output<typeof JobView>;
