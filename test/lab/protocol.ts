// The messages between the lab controller and the host process in each lab namespace: one
// JSON line each way over the host's Unix socket.

export type LabProtocol = 'TCP' | 'UDP' | 'SCTP';

/** How one attempt ended. Only "ok" (the expected host answered) counts as allowed. */
export type Outcome =
  | 'ok'
  | 'refused'
  | 'unreachable'
  | 'timeout'
  | 'error'
  | 'wrong-responder'
  | 'unsupported';

export interface ProbeTarget {
  ip: string;
  port: number;
  protocol: LabProtocol;
}

export interface ProbeOutcome {
  outcome: Outcome;
  ms: number;
  /** Name the answering host put in its reply. */
  responder?: string;
  /** Source port of a long-lived flow (to find its conntrack entry). */
  localPort?: number;
}

export interface HostConfig {
  name: string;
  socket: string;
  tcp: number[];
  udp: number[];
  /**
   * Address the UDP sockets bind to: a reply must leave from the address the client sent to, or
   * the client's connected socket drops it — and a node host has several addresses.
   */
  udpAddress?: string;
  /** The IPv6 address, when the host has one: TCP then listens on both families, UDP binds both. */
  udpAddress6?: string;
  /** The host exits when this process is gone (labs owned by a test run). */
  parentPid?: number;
}

export type HostRequest =
  | { op: 'ping' }
  | { op: 'probe'; targets: ProbeTarget[]; timeoutMs: number; concurrency: number }
  | { op: 'flow-open'; flow: string; target: ProbeTarget; timeoutMs: number }
  /** `pad`: bytes added to the request line, so the echoed reply spans many full-size segments. */
  | { op: 'flow-check'; flow: string; timeoutMs: number; pad?: number }
  | { op: 'flow-close'; flow: string };

export interface HostReply {
  ok: boolean;
  error?: string;
  name?: string;
  results?: ProbeOutcome[];
}
