// Client side of a lab host's Unix socket: one request line, one reply line.
import net from 'node:net';
import type { HostReply, HostRequest } from './protocol.js';

export function hostRequest(socket: string, req: HostRequest, timeoutMs: number): Promise<HostReply> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    let buf = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`lab host ${socket}: no reply to ${req.op} within ${timeoutMs} ms`));
    }, timeoutMs);
    conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
    conn.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
    });
    conn.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`lab host ${socket}: ${e.message}`, { cause: e }));
    });
    conn.on('close', () => {
      clearTimeout(timer);
      const line = buf.split('\n')[0] ?? '';
      if (!line) return reject(new Error(`lab host ${socket}: closed without a reply to ${req.op}`));
      try {
        const reply = JSON.parse(line) as HostReply;
        if (!reply.ok)
          return reject(new Error(`lab host ${socket}: ${req.op} failed: ${reply.error ?? 'unknown'}`));
        resolve(reply);
      } catch (e) {
        reject(new Error(`lab host ${socket}: bad reply: ${line.slice(0, 200)}`, { cause: e }));
      }
    });
  });
}
