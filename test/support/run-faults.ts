// The `faults` project: tests that reset or break the runtime on purpose. workerd reports each such
// fault as an uncaught exception with a native stack, which reads as a broken build. This runs the
// project with its whole output kept in a file: when every test passes, the runtime's exception lines
// are left out of what is shown; when one fails, everything is shown as it came.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const logPath = join(tmpdir(), 'jobcast-faults-output.log');
/** workerd's reports: `uncaught exception; …`, `exception = …`, `stack: …`, then any `    at …` lines. */
const RUNTIME_LINE = /^(uncaught exception; |exception = |stack: )/;

let output = '';
const child = spawn(join(root, 'node_modules/.bin/vitest'), ['run', '--project', 'faults-hibernate', '--project', 'faults-no-hibernate', ...process.argv.slice(2)], {
  cwd: root,
  env: { ...process.env, FORCE_COLOR: process.stdout.isTTY ? '1' : (process.env.FORCE_COLOR ?? '0') },
  stdio: ['ignore', 'pipe', 'pipe'],
});
child.stdout.on('data', (chunk: Buffer) => (output += chunk));
child.stderr.on('data', (chunk: Buffer) => (output += chunk));
child.on('exit', (code, signal) => {
  writeFileSync(logPath, output);
  const status = code ?? (signal ? 1 : 0);
  if (status !== 0) {
    process.stdout.write(output);
  } else {
    const lines = output.split('\n');
    let inReport = false;
    const shown = lines.filter((line) => {
      inReport = RUNTIME_LINE.test(line) || (inReport && line.startsWith('    at '));
      return !inReport;
    });
    process.stdout.write(shown.join('\n'));
    const hidden = lines.length - shown.length;
    if (hidden > 0) process.stdout.write(`(${hidden} lines of the runtime's reports of the injected faults: ${logPath})\n`);
  }
  process.exit(status);
});
