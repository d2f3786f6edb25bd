/** Short timings so heartbeats and stream ends happen within a test; everything else at its default. */
export const TEST_BINDINGS = {
  API_TOKENS: 'test-token-a,test-token-b',
  HEARTBEAT_MS: '200',
  STREAM_MAX_MS: '4000',
  MAX_SUBSCRIBERS_PER_JOB: '50',
  JOBCAST_LOCAL_DEV: 'false',
};

/** The metrics suites' additions (vitest.config.ts): notifications to the recorder, 1,000 streams per job. */
export const METRICS_BINDINGS = {
  WEBHOOK_URL: 'https://backend.test/hooks',
  WEBHOOK_SECRET: 'metrics-test-webhook-secret-0123456789',
  VACATED_AFTER_MS: '300',
  MAX_SUBSCRIBERS_PER_JOB: '1000',
};
