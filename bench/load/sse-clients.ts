// A load-generator process: holds many SSE connections on raw sockets and timestamps what arrives.
// Driven over IPC by bench/run.ts; timestamps are process.hrtime (CLOCK_MONOTONIC, shared by all
// processes on the machine), so they compare with the orchestrator's.
import { connect, type Socket } from 'node:net';

interface Connection {
  socket: Socket;
  path: string;
  head: string;
  body: string;
  chunked: boolean | null;
  pending: Buffer;
  status: number;
  opened: boolean;
  resultAt: bigint | null;
  closed: boolean;
}

type Command =
  | { cmd: 'open'; host: string; port: number; paths: string[]; concurrency: number; timeoutMs: number }
  | { cmd: 'results' }
  | { cmd: 'close' }
  | { cmd: 'cpu' };

const connections: Connection[] = [];

function feed(conn: Connection, data: Buffer): void {
  if (conn.chunked === null) {
    conn.head += data.toString('latin1');
    const end = conn.head.indexOf('\r\n\r\n');
    if (end < 0) return;
    conn.status = Number(conn.head.slice(9, 12));
    conn.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(conn.head.slice(0, end));
    data = Buffer.from(conn.head.slice(end + 4), 'latin1');
    conn.head = conn.head.slice(0, end);
  }
  if (!conn.chunked) {
    conn.body += data.toString('utf8');
  } else {
    conn.pending = Buffer.concat([conn.pending, data]);
    for (;;) {
      const lineEnd = conn.pending.indexOf('\r\n');
      if (lineEnd < 0) break;
      const size = parseInt(conn.pending.subarray(0, lineEnd).toString('latin1'), 16);
      if (conn.pending.length < lineEnd + 2 + size + 2) break;
      conn.body += conn.pending.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8');
      conn.pending = conn.pending.subarray(lineEnd + 2 + size + 2);
    }
  }
  if (!conn.opened && conn.body.includes('event: connect')) conn.opened = true;
  if (conn.resultAt === null && conn.body.includes('event: result\n')) conn.resultAt = process.hrtime.bigint();
  if (conn.body.length > 4096) conn.body = conn.body.slice(-256);
}

function open(host: string, port: number, path: string, timeoutMs: number): Promise<Connection> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const conn: Connection = { socket, path, head: '', body: '', chunked: null, pending: Buffer.alloc(0), status: 0, opened: false, resultAt: null, closed: false };
    connections.push(conn);
    const timer = setTimeout(() => resolve(conn), timeoutMs);
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\n\r\n`));
    socket.on('data', (data) => {
      feed(conn, data);
      if (conn.opened || (conn.status !== 0 && conn.status !== 200)) {
        clearTimeout(timer);
        resolve(conn);
      }
    });
    socket.on('error', () => {
      conn.closed = true;
      clearTimeout(timer);
      resolve(conn);
    });
    socket.on('close', () => (conn.closed = true));
  });
}

process.on('message', async (message: Command) => {
  if (message.cmd === 'open') {
    const started = process.hrtime.bigint();
    const queue = [...message.paths];
    let errors = 0;
    const worker = async () => {
      for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
        const conn = await open(message.host, message.port, path, message.timeoutMs);
        if (!conn.opened) errors++;
      }
    };
    await Promise.all(Array.from({ length: message.concurrency }, worker));
    process.send!({ type: 'opened', errors, ns: String(process.hrtime.bigint() - started) });
  } else if (message.cmd === 'results') {
    const live = connections.filter((c) => c.opened);
    process.send!({
      type: 'results',
      times: live.map((c) => [c.path, c.resultAt === null ? null : String(c.resultAt)]),
    });
  } else if (message.cmd === 'close') {
    for (const conn of connections) conn.socket.destroy();
    connections.length = 0;
    process.send!({ type: 'closed' });
  } else if (message.cmd === 'cpu') {
    process.send!({ type: 'cpu', usage: process.cpuUsage() });
  }
});
