// Runs inside a pod's network namespace (nsenter --net=/proc/PID/ns/net, see window-probe.ts):
// the packets leave from the pod's own interface and address, exactly as the pod's traffic
// does. Reads commands on stdin ("+IP" starts probing IP, "-IP" stops), connects to IP:PORT in
// a tight loop (each attempt starts as soon as the previous one ended, a fresh TCP handshake
// each time), and writes one JSON line per connection that got through and per change of
// outcome, with wall-clock milliseconds: {"ip","t","outcome"}.
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const port = Number(process.argv[2] ?? '8080');
const timeoutMs = Number(process.argv[3] ?? '200');
const active = new Set<string>();
const last = new Map<string, string>();

function emit(ip: string, outcome: string): void {
  process.stdout.write(`${JSON.stringify({ ip, t: Date.now(), outcome })}\n`);
}

function attempt(ip: string): void {
  if (!active.has(ip)) return;
  let done = false;
  const socket = connect({ host: ip, port });
  const finish = (outcome: string): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    if (outcome === 'connected' || last.get(ip) !== outcome) emit(ip, outcome);
    last.set(ip, outcome);
    setImmediate(() => attempt(ip));
  };
  const timer = setTimeout(() => finish('timeout'), timeoutMs);
  socket.once('connect', () => finish('connected'));
  socket.once('error', (err: NodeJS.ErrnoException) =>
    finish(err.code === 'ECONNREFUSED' ? 'refused' : (err.code ?? 'error').toLowerCase()),
  );
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const ip = line.slice(1).trim();
  if (line.startsWith('+') && !active.has(ip)) {
    active.add(ip);
    emit(ip, 'start');
    attempt(ip);
  } else if (line.startsWith('-')) {
    active.delete(ip);
  }
});
process.stdin.on('end', () => process.exit(0));
