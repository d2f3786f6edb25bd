/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Where jobcast runs, such as https://jobs.example.com (.env); the page's own origin when unset. */
  readonly VITE_JOBCAST_URL?: string;
  /** Milliseconds a job may stay unknown to jobcast before the page shows job_not_found. */
  readonly VITE_JOBCAST_NOT_FOUND_TIMEOUT_MS?: string;
}
