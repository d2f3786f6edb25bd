const JOB_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The contract's job id rule; `.` and `..` are excluded because URLs normalise them away. */
export function isValidJobId(id: string): boolean {
  return JOB_ID.test(id) && id !== '.' && id !== '..';
}
