import { useEffect, useState } from 'react';
import { JobcastError, waitForJob, type ConnectionState } from 'jobcast/browser';

interface Props {
  /** The job id and its subscribe token, as your backend's register answer gave them. */
  id: string;
  token?: string;
  /** Where jobcast runs. */
  baseUrl?: string;
  /** How long a job may stay unknown to jobcast before the wait gives up (60 s by default). */
  notFoundTimeoutMs?: number;
}

/** Page A: shows the job's progress, then moves the page to its moveUrl; a failed job shows why. */
export function Wait({ id, token, baseUrl, notFoundTimeoutMs }: Props) {
  const [progress, setProgress] = useState(0);
  const [state, setState] = useState<ConnectionState>('connecting');
  const [error, setError] = useState<string>();

  useEffect(() => {
    // In development StrictMode mounts twice: the first wait is aborted at once, the second waits.
    const controller = new AbortController();
    waitForJob({ id, token, baseUrl, notFoundTimeoutMs, signal: controller.signal, onProgress: (p) => setProgress(p.progress), onState: setState })
      .then((outcome) => {
        if (outcome.status === 'result') location.assign(outcome.moveUrl);
        else setError(outcome.error ?? 'the job failed');
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e instanceof JobcastError ? e.code : String(e));
      });
    return () => controller.abort();
  }, [id, token, baseUrl, notFoundTimeoutMs]);

  if (error) return <p role="alert">Sorry: {error}</p>;
  return (
    <main>
      <progress max={1} value={progress} /> {Math.round(progress * 100)}%
      {state === 'offline' && <p>Reconnecting…</p>}
    </main>
  );
}
