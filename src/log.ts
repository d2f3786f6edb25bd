/**
 * One flat JSON object per line, so `wrangler tail` and Workers Logs can filter on its fields.
 * Never pass tokens.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export function logInfo(msg: string, fields: LogFields = {}): void {
  console.log(JSON.stringify({ level: 'info', msg, ...fields }));
}

export function logWarn(msg: string, fields: LogFields = {}): void {
  console.warn(JSON.stringify({ level: 'warn', msg, ...fields }));
}

export function logError(msg: string, fields: LogFields = {}): void {
  console.error(JSON.stringify({ level: 'error', msg, ...fields }));
}
