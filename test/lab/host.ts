// The one process that lives in each lab network namespace (pod, external host or node).
// It serves the host's TCP and UDP ports (every request line or datagram is answered with the
// host's name, so a probe knows who replied) and takes orders on a Unix socket from the lab
// controller: probe a list of destinations, or open, check and close long-lived flows for the
// conntrack tests. Filesystem Unix sockets cross network namespaces, which is what lets one
// controller drive hosts in many of them. Node built-ins only: it starts once per host.
import dgram from 'node:dgram';
import { readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import type { HostConfig, HostReply, HostRequest, Outcome, ProbeOutcome, ProbeTarget } from './protocol.js';

const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as HostConfig;
const listeners: (net.Server | dgram.Socket)[] = [];

function say(event: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ host: config.name, event, ...fields })}\n`);
}

// ---- servers ----------------------------------------------------------------------------

function serveTcp(port: number): Promise<void> {
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        sock.write(`${config.name} ${line}\n`);
      }
    });
    sock.on('error', () => sock.destroy());
  });
  listeners.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // '::' takes both families (IPv4 arrives mapped); without IPv6 the netns has no '::'.
    const host = config.udpAddress6 !== undefined ? '::' : '0.0.0.0';
    server.listen({ port, host, backlog: 1024 }, () => resolve());
  });
}

function serveUdp(port: number, address: string): Promise<void> {
  const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  listeners.push(sock);
  sock.on('message', (msg, rinfo) => {
    sock.send(`${config.name} ${msg.toString('utf8')}`, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, address, () => resolve());
  });
}

// ---- one exchange ---------------------------------------------------------------------------

function outcomeOf(err: NodeJS.ErrnoException): Outcome {
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EACCES':
    case 'EPERM':
      return 'unreachable';
    default:
      return 'error';
  }
}

/** Waits for the reply line `"<responder> <token>"` on a TCP socket. */
function awaitTcpReply(sock: net.Socket, token: string, timeoutMs: number): Promise<ProbeOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    let buf = '';
    const done = (outcome: Outcome, responder?: string): void => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('error', onError);
      sock.off('close', onClose);
      resolve({ outcome, ms: Date.now() - started, ...(responder ? { responder } : {}) });
    };
    const onData = (chunk: Buffer): void => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [responder, got] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        if (got === token) return done('ok', responder);
      }
    };
    const onError = (e: Error): void => done(outcomeOf(e));
    const onClose = (): void => done('error');
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    sock.on('data', onData);
    sock.on('error', onError);
    sock.on('close', onClose);
  });
}

async function probeTcp(t: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const started = Date.now();
  const sock = net.connect({ host: t.ip, port: t.port });
  sock.setNoDelay(true);
  try {
    const connected = await new Promise<Outcome | undefined>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        resolve(outcomeOf(e));
      });
    });
    if (connected) return { outcome: connected, ms: Date.now() - started };
    sock.write('probe\n');
    const r = await awaitTcpReply(sock, 'probe', Math.max(1, timeoutMs - (Date.now() - started)));
    return { ...r, ms: Date.now() - started };
  } finally {
    sock.destroy();
  }
}

function awaitUdpReply(sock: dgram.Socket, token: string, timeoutMs: number): Promise<ProbeOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const done = (outcome: Outcome, responder?: string): void => {
      clearTimeout(timer);
      sock.off('message', onMessage);
      sock.off('error', onError);
      resolve({ outcome, ms: Date.now() - started, ...(responder ? { responder } : {}) });
    };
    const onMessage = (msg: Buffer): void => {
      const [responder, got] = msg.toString('utf8').split(' ');
      if (got === token) done('ok', responder);
    };
    const onError = (e: Error): void => done(outcomeOf(e));
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    sock.on('message', onMessage);
    sock.on('error', onError);
  });
}

function connectUdp(t: ProbeTarget): Promise<dgram.Socket> {
  const sock = dgram.createSocket(t.ip.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.connect(t.port, t.ip, () => {
      sock.off('error', reject);
      resolve(sock);
    });
  });
}

async function probeUdp(t: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const started = Date.now();
  let sock: dgram.Socket | undefined;
  try {
    sock = await connectUdp(t);
    const reply = awaitUdpReply(sock, 'probe', timeoutMs);
    sock.send('probe');
    return await reply;
  } catch (e) {
    return { outcome: outcomeOf(e as Error), ms: Date.now() - started };
  } finally {
    sock?.close();
  }
}

function probeOne(t: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  if (t.protocol === 'TCP') return probeTcp(t, timeoutMs);
  if (t.protocol === 'UDP') return probeUdp(t, timeoutMs);
  return Promise.resolve({ outcome: 'unsupported', ms: 0 });
}

/** Probes every target, at most `concurrency` at a time, keeping the order of the input. */
async function probeAll(
  targets: ProbeTarget[],
  timeoutMs: number,
  concurrency: number,
): Promise<ProbeOutcome[]> {
  const out: ProbeOutcome[] = new Array<ProbeOutcome>(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      out[i] = await probeOne(targets[i], timeoutMs);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, targets.length)) }, worker));
  return out;
}

// ---- long-lived flows (conntrack tests) ---------------------------------------------------

type Flow = { kind: 'tcp'; sock: net.Socket; seq: number } | { kind: 'udp'; sock: dgram.Socket; seq: number };
const flows = new Map<string, Flow>();

async function flowExchange(flow: Flow, timeoutMs: number, pad = 0): Promise<ProbeOutcome> {
  const token = `seq${++flow.seq}${'.'.repeat(pad)}`;
  if (flow.kind === 'tcp') {
    const reply = awaitTcpReply(flow.sock, token, timeoutMs);
    flow.sock.write(`${token}\n`);
    return reply;
  }
  const reply = awaitUdpReply(flow.sock, token, timeoutMs);
  flow.sock.send(token);
  return reply;
}

async function openFlow(
  id: string,
  t: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeOutcome & { localPort?: number }> {
  closeFlow(id);
  let flow: Flow;
  if (t.protocol === 'TCP') {
    const sock = net.connect({ host: t.ip, port: t.port });
    sock.setNoDelay(true);
    // A flow that the firewall later cuts errors out; keep the process alive regardless.
    sock.on('error', () => undefined);
    flow = { kind: 'tcp', sock, seq: 0 };
  } else if (t.protocol === 'UDP') {
    const sock = await connectUdp(t);
    sock.on('error', () => undefined);
    flow = { kind: 'udp', sock, seq: 0 };
  } else {
    return { outcome: 'unsupported', ms: 0 };
  }
  flows.set(id, flow);
  const r = await flowExchange(flow, timeoutMs);
  const localPort = flow.kind === 'tcp' ? flow.sock.localPort : flow.sock.address().port;
  return { ...r, ...(localPort !== undefined ? { localPort } : {}) };
}

function closeFlow(id: string): void {
  const flow = flows.get(id);
  if (!flow) return;
  flows.delete(id);
  if (flow.kind === 'tcp') flow.sock.destroy();
  else flow.sock.close();
}

// ---- control socket --------------------------------------------------------------------------

async function handle(req: HostRequest): Promise<HostReply> {
  switch (req.op) {
    case 'ping':
      return { ok: true, name: config.name };
    case 'probe':
      return { ok: true, results: await probeAll(req.targets, req.timeoutMs, req.concurrency) };
    case 'flow-open':
      return { ok: true, results: [await openFlow(req.flow, req.target, req.timeoutMs)] };
    case 'flow-check': {
      const flow = flows.get(req.flow);
      if (!flow) return { ok: false, error: `no flow ${req.flow}` };
      return { ok: true, results: [await flowExchange(flow, req.timeoutMs, req.pad)] };
    }
    case 'flow-close':
      closeFlow(req.flow);
      return { ok: true };
  }
}

function shutdown(code: number): never {
  for (const id of [...flows.keys()]) closeFlow(id);
  for (const l of listeners) l.close();
  rmSync(config.socket, { force: true });
  process.exit(code);
}

async function main(): Promise<void> {
  for (const p of config.tcp) await serveTcp(p);
  for (const p of config.udp) {
    if (config.udpAddress !== undefined) await serveUdp(p, config.udpAddress);
    if (config.udpAddress6 !== undefined) await serveUdp(p, config.udpAddress6);
  }
  rmSync(config.socket, { force: true });
  const control = net.createServer((conn) => {
    let buf = '';
    conn.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      let req: HostRequest;
      try {
        req = JSON.parse(line) as HostRequest;
      } catch (e) {
        conn.end(`${JSON.stringify({ ok: false, error: `bad request: ${(e as Error).message}` })}\n`);
        return;
      }
      handle(req).then(
        (reply) => conn.end(`${JSON.stringify(reply)}\n`),
        (e: unknown) => conn.end(`${JSON.stringify({ ok: false, error: String(e) })}\n`),
      );
    });
    conn.on('error', () => conn.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(config.socket, () => resolve());
  });
  listeners.push(control);
  say('ready', { tcp: config.tcp, udp: config.udp });
  // A lab made by a test process dies with it: nothing of a crashed run keeps serving.
  const parent = config.parentPid;
  if (parent !== undefined) {
    setInterval(() => {
      try {
        process.kill(parent, 0);
      } catch {
        say('parent gone', { parent });
        shutdown(0);
      }
    }, 1000).unref();
  }
}

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
main().catch((e: unknown) => {
  say('failed', { error: String(e) });
  shutdown(1);
});
