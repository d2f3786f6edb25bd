import { logError } from './log';

/** The contract's error codes and their HTTP statuses; one place builds every error body. */
export const ERROR_STATUS = {
  invalid_job_id: 400,
  invalid_body: 400,
  unauthorized: 401,
  invalid_token: 401,
  not_found: 404,
  job_not_found: 404,
  method_not_allowed: 405,
  job_finished: 409,
  payload_too_large: 413,
  redirect_not_allowed: 422,
  too_many_subscribers: 429,
  internal_error: 500,
  not_configured: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: ErrorCode;
  message: string;
}

export function errorResponse(code: ErrorCode, message: string, headers?: HeadersInit): Response {
  const body: ErrorBody = { error: code, message };
  const response = Response.json(body, { status: ERROR_STATUS[code], headers });
  return response;
}

/** The answer to an error nobody expected: its detail goes to the log, never to the client. */
export function unexpectedError(error: unknown, route: string, method: string): Response {
  logError('unhandled error', { route, method, error: String((error as Error | undefined)?.stack ?? error) });
  return errorResponse('internal_error', 'Something went wrong on our side; the request may be retried.');
}

/** Thrown inside request handling; `app.onError` turns it into the JSON body above. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers?: HeadersInit,
  ) {
    super(message);
  }
}

/** The job object's two refusals, worded once for every route that meets them. */
export const JOB_REFUSALS = {
  job_not_found: 'No such job: it was never registered, or it expired or was deleted. PUT /jobs/:id registers it.',
  job_finished: 'The job has already finished with a different result.',
} as const;

/** `job_finished` for progress, which no result was in question for. */
export const PROGRESS_AFTER_FINISH = 'The job has already finished; it takes no more progress.';
