import { app } from './app';

export { JobObject } from './job-object';
export default app;
