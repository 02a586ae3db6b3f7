// Runs inside a pod's network namespace (nsenter --net=/proc/PID/ns/net, see window-probe.ts):
// the packets leave from the pod's own interface and address, exactly as the pod's traffic
// does. Reads commands on stdin ("+IP" starts probing IP, "-IP" stops), connects to IP:PORT in
// a tight loop (each attempt starts as soon as the previous one ended, a fresh TCP handshake
// each time) and writes one line per attempt: "IP SPORT START END OUTCOME" (wall-clock ms).
//
// Each attempt binds its own source port, taken in turn from a range outside the kernel's
// ephemeral ports, so the observer on the target's node can tell which attempt a conntrack
// event belongs to (window-classify.ts): the socket alone cannot tell a RST sent by the pod's
// kernel (nothing listens yet) from one sent by a REJECT rule on the way; both are ECONNREFUSED.
// A connection that got through is reset, not closed, so no TIME_WAIT holds its port.
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

const port = Number(process.argv[2] ?? '8080');
const timeoutMs = Number(process.argv[3] ?? '200');
/** Source ports of the attempts: below the kernel's ephemeral range (32768-60999 by default). */
const FIRST_PORT = 10_000;
const LAST_PORT = 30_000;
let nextPort = FIRST_PORT;
const active = new Set<string>();

function takePort(): number {
  const p = nextPort;
  nextPort = nextPort >= LAST_PORT ? FIRST_PORT : nextPort + 1;
  return p;
}

function outcomeOf(err: NodeJS.ErrnoException): string {
  return err.code === 'ECONNREFUSED' ? 'refused' : (err.code ?? 'error').toLowerCase();
}

function attempt(ip: string): void {
  if (!active.has(ip)) return;
  const sport = takePort();
  const start = Date.now();
  let done = false;
  const socket: Socket = connect({ host: ip, port, localPort: sport });
  const finish = (outcome: string): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (outcome === 'connected') socket.resetAndDestroy();
    else socket.destroy();
    // A port another socket holds is not an attempt on the address: try again with the next.
    if (outcome !== 'eaddrinuse') process.stdout.write(`${ip} ${sport} ${start} ${Date.now()} ${outcome}\n`);
    setImmediate(() => attempt(ip));
  };
  const timer = setTimeout(() => finish('timeout'), timeoutMs);
  socket.once('connect', () => finish('connected'));
  // `on`, not `once`: a reset socket may report a second error, which must not kill the prober.
  socket.on('error', (err: NodeJS.ErrnoException) => finish(outcomeOf(err)));
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const ip = line.slice(1).trim();
  if (line.startsWith('+') && !active.has(ip)) {
    active.add(ip);
    attempt(ip);
  } else if (line.startsWith('-')) {
    active.delete(ip);
  }
});
process.stdin.on('end', () => process.exit(0));
