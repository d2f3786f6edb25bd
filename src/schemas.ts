import { z } from 'zod';

/** One schema per request body; unknown fields are rejected so a typo is an error, not a silent no-op. */
export const MAX_TTL_SECONDS = 30 * 86_400;
const MAX_URL_LENGTH = 2048;
const MAX_TEXT_LENGTH = 1000;

export const RegisterBody = z.strictObject({
  ttlSeconds: z.number().int().min(1).max(MAX_TTL_SECONDS).optional(),
});

export const ProgressBody = z.strictObject({
  progress: z.number().min(0).max(1),
  message: z.string().max(MAX_TEXT_LENGTH).optional(),
});

export const CompleteBody = z.strictObject({
  moveUrl: z.string().max(MAX_URL_LENGTH),
  data: z.record(z.string(), z.json()).optional(),
});

export const DemoBody = z.strictObject({
  outcome: z.enum(['result', 'failed']).optional(),
  stepMs: z.number().int().min(0).max(5000).optional(),
});

export const FailBody = z.strictObject({
  moveUrl: z.string().max(MAX_URL_LENGTH).optional(),
  error: z.string().max(MAX_TEXT_LENGTH).optional(),
});

// Answers, for the OpenAPI document (and its tests, which check real answers against it).
const JobStatus = z.enum(['pending', 'result', 'failed']);
const JsonObject = z.record(z.string(), z.json());

export const Registered = z.object({
  id: z.string(),
  status: JobStatus,
  subscribeUrl: z.string(),
  statusUrl: z.string(),
  expiresAt: z.iso.datetime(),
});

export const Published = z.object({
  eventId: z.number().int().min(1),
  delivered: z.number().int().min(0),
  duplicate: z.literal(true).optional(),
});

export const JobView = z.object({
  id: z.string(),
  status: JobStatus,
  progress: z.number().min(0).max(1).optional(),
  message: z.string().optional(),
  moveUrl: z.string().optional(),
  data: JsonObject.optional(),
  error: z.string().optional(),
  lastEventId: z.number().int().min(0),
  createdAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().optional(),
  /** Open streams on the job now (a departed browser counts until a failed write reveals it). */
  listeners: z.number().int().min(0),
});

export const DemoStarted = z.object({ id: z.string(), subscribeUrl: z.string(), statusUrl: z.string() });
export const Health = z.object({ ok: z.literal(true) });

// The TypeScript shapes of the same requests and answers, for the worker and the SDK alike.
export type RegisterRequest = z.input<typeof RegisterBody>;
export type ProgressRequest = z.input<typeof ProgressBody>;
export type CompleteRequest = z.input<typeof CompleteBody>;
export type FailRequest = z.input<typeof FailBody>;
export type Registered = z.infer<typeof Registered>;
export type Published = z.infer<typeof Published>;
export type JobView = z.infer<typeof JobView>;
