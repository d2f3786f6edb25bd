import { app } from './app';
import type { Env } from './config';
import { fastConnect } from './connect';

export { JobObject } from './job-object';

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    return (await fastConnect(request, env)) ?? app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
