/** Short timings so heartbeats and stream ends happen within a test; everything else at its default. */
export const TEST_BINDINGS = {
  API_TOKENS: 'test-token-a,test-token-b',
  HEARTBEAT_MS: '200',
  STREAM_MAX_MS: '4000',
  MAX_SUBSCRIBERS_PER_JOB: '50',
  JOBCAST_LOCAL_DEV: 'false',
};
