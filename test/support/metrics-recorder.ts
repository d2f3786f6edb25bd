import { env } from 'cloudflare:workers';
import type { DataPoint, MetricsDataset } from '../../src/metrics';

/**
 * Binds METRICS to a recorder in the tests' runtime, which keeps a copy of every data point jobcast
 * writes. The worker and the job objects share this `env` in the test runtime, so both write here.
 * Analytics Engine's own local stand-in drops every write, and a recorder in another worker would be
 * reached over RPC, which the runtime cancels when the request that made the call ends first: this
 * one, like the platform's binding, takes each point synchronously and is never awaited.
 */
export function recordMetrics(): { pointsFor(job: string): DataPoint[] } {
  const points: DataPoint[] = [];
  const recorder: MetricsDataset = { writeDataPoint: (point) => void points.push(structuredClone(point)) };
  (env as unknown as { METRICS: MetricsDataset }).METRICS = recorder;
  return { pointsFor: (job) => points.filter((point) => point.blobs[0] === job) };
}
