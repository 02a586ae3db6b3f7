// A small interpreter of the iptables/ipset subset the render emits, for tests: it walks FORWARD
// the way the kernel does (jump pushes a return point, goto does not, RETURN pops, terminal
// targets end the walk) and evaluates ipset membership (hash:ip exact, hash:net most specific
// entry, `nomatch` negates). Any token it does not know is an error, so the render cannot emit
// something the tests silently ignore. Real packets in network namespaces are the dataplane
// suite's job; this checks the chain logic fast and exhaustively.
import type { Protocol } from '../../operator/api/networkpolicy.js';
import { cidrContainsIP, familyOf, parseCidr } from '../../operator/net/address.js';
import type { Ruleset } from '../../operator/dataplane/types.js';

export interface SimPacket {
  src: string;
  dst: string;
  protocol: Protocol | 'ICMP' | 'ICMPv6';
  /** ICMPv6 type (neighbour discovery is 133-136). */
  icmpType?: number;
  /** IPv6 hop limit; default 64. */
  hopLimit?: number;
  port: number;
  state?: 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID';
  mark?: number;
}

export type Verdict = 'ACCEPT' | 'DROP' | 'REJECT';

export interface SimResult {
  verdict: Verdict;
  mark: number;
  rejectWith?: string;
  /** Rules evaluated, a per-packet cost figure. */
  steps: number;
}

type Match = (p: SimPacket, mark: number) => boolean;
type Target =
  | { kind: 'jump'; chain: string }
  | { kind: 'goto'; chain: string }
  | { kind: 'return' }
  | { kind: 'drop' }
  | { kind: 'accept' }
  | { kind: 'reject'; with: string }
  | { kind: 'mark'; value: number; mask: number };

interface SimRule {
  text: string;
  matches: Match[];
  target: Target;
}

function tokenize(rule: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rule))) out.push(m[1] ?? m[2]);
  return out;
}

function parseMarkPair(text: string): { value: number; mask: number } {
  const [v, m] = text.split('/');
  return { value: Number(v), mask: m === undefined ? 0xffffffff : Number(m) };
}

class SetTable {
  private readonly hashIP = new Map<string, Set<string>>();
  private readonly hashNet = new Map<string, { cidr: ReturnType<typeof parseCidr>; nomatch: boolean }[]>();

  constructor(ruleset: Ruleset) {
    for (const s of ruleset.ipsets) {
      // Like `ipset restore`, refuse a set twice or an element twice (with or without nomatch).
      if (this.hashIP.has(s.name) || this.hashNet.has(s.name)) throw new Error(`set ${s.name} defined twice`);
      const elements = s.entries.map((e) => e.split(' ')[0]);
      const dup = elements.find((e, i) => elements.indexOf(e) !== i);
      if (dup !== undefined) throw new Error(`set ${s.name}: element ${dup} added twice`);
      if (s.type === 'hash:ip') this.hashIP.set(s.name, new Set(s.entries));
      else {
        this.hashNet.set(
          s.name,
          s.entries.map((e) => {
            const [addr, flag] = e.split(' ');
            const text = addr.includes('/') ? addr : `${addr}/${familyOf(addr) === 4 ? 32 : 128}`;
            const cidr = parseCidr(text);
            if (cidr.prefix === 0) throw new Error(`set ${s.name}: hash:net cannot hold ${text}`);
            return { cidr, nomatch: flag === 'nomatch' };
          }),
        );
      }
    }
  }

  has(name: string, ip: string): boolean {
    const plain = this.hashIP.get(name);
    if (plain) return plain.has(ip);
    const net = this.hashNet.get(name);
    if (!net) throw new Error(`rule refers to unknown set ${name}`);
    let best: { prefix: number; nomatch: boolean } | undefined;
    for (const e of net) {
      if (cidrContainsIP(e.cidr, ip) && (!best || e.cidr.prefix > best.prefix))
        best = { prefix: e.cidr.prefix, nomatch: e.nomatch };
    }
    return !!best && !best.nomatch;
  }
}

const NEXT_HEADER: Record<SimPacket['protocol'], number> = {
  TCP: 6,
  UDP: 17,
  SCTP: 132,
  ICMP: 1,
  ICMPv6: 58,
};

/**
 * The bytes a `u32` match can read of an IPv6 packet: the fixed header (next header at 6, hop
 * limit at 7) and the first bytes after it (the ICMPv6 type, or the TCP/UDP/SCTP ports). Only
 * IPv6: the render uses u32 in its IPv6 ruleset alone.
 */
function headerBytes(p: SimPacket): Uint8Array {
  if (familyOf(p.src) !== 6)
    throw new Error(`u32 on an IPv4 packet (${p.src}): the render uses it for IPv6 only`);
  const b = new Uint8Array(48);
  b[6] = NEXT_HEADER[p.protocol];
  b[7] = p.hopLimit ?? 64;
  if (p.protocol === 'ICMPv6') b[40] = p.icmpType ?? 128;
  else {
    b[42] = p.port >> 8;
    b[43] = p.port & 0xff;
  }
  return b;
}

/** `A>>S=LO[:HI]` tests joined by `&&` (the subset the render writes): read 4 bytes at A, shift. */
function parseU32(expr: string, text: string): (bytes: Uint8Array) => boolean {
  const tests = expr.split('&&').map((part) => {
    const m = /^(\w+)>>(\w+)=(\w+)(?::(\w+))?$/.exec(part);
    if (!m) throw new Error(`rule "${text}": u32 test "${part}" is not OFFSET>>SHIFT=VALUE[:VALUE]`);
    const [offset, shift, lo] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const hi = m[4] === undefined ? lo : Number(m[4]);
    return (bytes: Uint8Array): boolean => {
      const word = new DataView(bytes.buffer).getUint32(offset) >>> shift;
      return word >= lo && word <= hi;
    };
  });
  return (bytes) => tests.every((t) => t(bytes));
}

function parseRule(text: string, sets: SetTable): SimRule {
  const t = tokenize(text);
  const matches: Match[] = [];
  let target: Target | undefined;
  let proto: string | undefined;
  for (let i = 0; i < t.length; i++) {
    const tok = t[i];
    const next = (): string => {
      const v = t[++i];
      if (v === undefined) throw new Error(`rule "${text}": ${tok} needs a value`);
      return v;
    };
    switch (tok) {
      case '-s':
      case '-d': {
        const v = next();
        const cidr = parseCidr(v.includes('/') ? v : `${v}/${familyOf(v) === 4 ? 32 : 128}`);
        const field = tok === '-s' ? 'src' : 'dst';
        matches.push((p) => cidrContainsIP(cidr, p[field]));
        break;
      }
      case '-p': {
        const pr = next();
        proto = pr;
        matches.push((p) => (pr === 'ipv6-icmp' ? p.protocol === 'ICMPv6' : p.protocol.toLowerCase() === pr));
        break;
      }
      case '-m': {
        const mod = next();
        if (mod === 'tcp' || mod === 'udp' || mod === 'sctp') {
          if (mod !== proto) throw new Error(`rule "${text}": -m ${mod} without -p ${mod}`);
          if (next() !== '--dport') throw new Error(`rule "${text}": expected --dport`);
          const [lo, hi] = next().split(':').map(Number) as [number, number | undefined];
          matches.push((p) => p.port >= lo && p.port <= (hi ?? lo));
        } else if (mod === 'icmp6') {
          if (proto !== 'ipv6-icmp') throw new Error(`rule "${text}": -m icmp6 without -p ipv6-icmp`);
          if (next() !== '--icmpv6-type') throw new Error(`rule "${text}": expected --icmpv6-type`);
          const type = Number(next());
          matches.push((p) => p.icmpType === type);
        } else if (mod === 'hl') {
          if (next() !== '--hl-eq') throw new Error(`rule "${text}": expected --hl-eq`);
          const hl = Number(next());
          matches.push((p) => (p.hopLimit ?? 64) === hl);
        } else if (mod === 'set') {
          if (next() !== '--match-set') throw new Error(`rule "${text}": expected --match-set`);
          const name = next();
          const dir = next();
          if (dir !== 'src' && dir !== 'dst') throw new Error(`rule "${text}": bad set direction ${dir}`);
          matches.push((p) => sets.has(name, p[dir]));
        } else if (mod === 'conntrack') {
          if (next() !== '--ctstate') throw new Error(`rule "${text}": expected --ctstate`);
          const states = next().split(',');
          matches.push((p) => states.includes(p.state ?? 'NEW'));
        } else if (mod === 'mark') {
          if (next() !== '--mark') throw new Error(`rule "${text}": expected --mark`);
          const { value, mask } = parseMarkPair(next());
          matches.push((_p, mark) => (mark & mask) >>> 0 === value);
        } else if (mod === 'u32') {
          let negate = false;
          let opt = next();
          if (opt === '!') {
            negate = true;
            opt = next();
          }
          if (opt !== '--u32') throw new Error(`rule "${text}": expected --u32`);
          const test = parseU32(next(), text);
          matches.push((p) => test(headerBytes(p)) !== negate);
        } else if (mod === 'comment') {
          if (next() !== '--comment') throw new Error(`rule "${text}": expected --comment`);
          next();
        } else {
          throw new Error(`rule "${text}": unknown match module ${mod}`);
        }
        break;
      }
      case '-j': {
        const j = next();
        if (j === 'RETURN') target = { kind: 'return' };
        else if (j === 'DROP') target = { kind: 'drop' };
        else if (j === 'ACCEPT') target = { kind: 'accept' };
        else if (j === 'REJECT') {
          if (next() !== '--reject-with') throw new Error(`rule "${text}": expected --reject-with`);
          target = { kind: 'reject', with: next() };
        } else if (j === 'MARK') {
          if (next() !== '--set-xmark') throw new Error(`rule "${text}": expected --set-xmark`);
          target = { kind: 'mark', ...parseMarkPair(next()) };
        } else target = { kind: 'jump', chain: j };
        break;
      }
      case '-g':
        target = { kind: 'goto', chain: next() };
        break;
      default:
        throw new Error(`rule "${text}": unknown token ${tok}`);
    }
  }
  if (!target) throw new Error(`rule "${text}": no target`);
  return { text, matches, target };
}

export class RulesetSimulator {
  private readonly chains = new Map<string, SimRule[]>();

  constructor(ruleset: Ruleset) {
    const sets = new SetTable(ruleset);
    for (const c of ruleset.chains)
      this.chains.set(
        c.name,
        c.rules.map((r) => parseRule(r, sets)),
      );
    // FORWARD holds just the hooks (policy ACCEPT), as in a fresh namespace.
    this.chains.set(
      'FORWARD',
      ruleset.hooks.filter((h) => h.builtin === 'FORWARD').map((h) => parseRule(h.rule, sets)),
    );
  }

  /** The fate of a forwarded packet in a namespace holding only this ruleset (FORWARD policy ACCEPT). */
  forward(packet: SimPacket): SimResult {
    const state = { mark: packet.mark ?? 0, steps: 0 };
    const out = this.run('FORWARD', packet, state, 0);
    if (out.kind === 'continue') return { verdict: 'ACCEPT', mark: state.mark, steps: state.steps };
    return {
      verdict: out.verdict,
      mark: state.mark,
      steps: state.steps,
      ...(out.with ? { rejectWith: out.with } : {}),
    };
  }

  private run(
    chain: string,
    p: SimPacket,
    state: { mark: number; steps: number },
    depth: number,
  ): { kind: 'continue' } | { kind: 'final'; verdict: Verdict; with?: string } {
    if (depth > 32) throw new Error(`chain nesting too deep at ${chain}`);
    const rules = this.chains.get(chain);
    if (!rules) throw new Error(`jump to unknown chain ${chain}`);
    for (const rule of rules) {
      state.steps++;
      if (!rule.matches.every((m) => m(p, state.mark))) continue;
      const t = rule.target;
      switch (t.kind) {
        case 'return':
          return { kind: 'continue' };
        case 'drop':
          return { kind: 'final', verdict: 'DROP' };
        case 'accept':
          return { kind: 'final', verdict: 'ACCEPT' };
        case 'reject':
          return { kind: 'final', verdict: 'REJECT', with: t.with };
        case 'mark':
          state.mark = ((state.mark & ~t.mask) ^ t.value) >>> 0;
          break;
        case 'jump': {
          const r = this.run(t.chain, p, state, depth + 1);
          if (r.kind === 'final') return r;
          break;
        }
        case 'goto': {
          // The goto'd chain's return ends this chain too.
          return this.run(t.chain, p, state, depth + 1);
        }
      }
    }
    return { kind: 'continue' };
  }
}
