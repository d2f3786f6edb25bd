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

export const FailBody = z.strictObject({
  moveUrl: z.string().max(MAX_URL_LENGTH).optional(),
  error: z.string().max(MAX_TEXT_LENGTH).optional(),
});
