// Comparing a rule as the render wrote it with the rule as iptables-save prints it back.
// iptables-save canonicalises: base options first (-s -d -i -o -p), "-m tcp" after "-p tcp",
// "/32" on host addresses, the default --reject-with spelled out, quotes only where needed,
// conntrack state lists in its own order. normalizeRule() maps both spellings to one form so
// that a resync sees real drift and not spelling. The applier also learns the exact saved form
// of each rule it wrote (calibration), so anything this misses costs one rewrite, not a loop.

/** Splits like iptables-restore: whitespace-separated, double quotes group, backslash escapes a quote. */
export function tokenizeRule(rule: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let have = false;
  for (let i = 0; i < rule.length; i++) {
    const ch = rule[i];
    if (ch === '\\' && rule[i + 1] === '"') {
      cur += '"';
      i++;
      have = true;
    } else if (ch === '"') {
      inQuote = !inQuote;
      have = true;
    } else if (!inQuote && /\s/.test(ch)) {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += ch;
      have = true;
    }
  }
  if (have) out.push(cur);
  return out;
}

const baseOrder = ['-s', '-d', '-i', '-o', '-p'] as const;
const baseAlias: Record<string, string> = {
  '--source': '-s',
  '--src': '-s',
  '--destination': '-d',
  '--dst': '-d',
  '--in-interface': '-i',
  '--out-interface': '-o',
  '--protocol': '-p',
  '--jump': '-j',
  '--goto': '-g',
  '--match': '-m',
};

function hostAddress(v: string): string {
  return v.includes('/') ? v : `${v}/${v.includes(':') ? 128 : 32}`;
}

export function normalizeRule(rule: string): string {
  const tokens = tokenizeRule(rule).map((t) => baseAlias[t] ?? t);
  const base = new Map<string, string[]>();
  const rest: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const negated = t === '!' && (baseOrder as readonly string[]).includes(tokens[i + 1] ?? '');
    const opt = negated ? tokens[i + 1] : t;
    if ((baseOrder as readonly string[]).includes(opt)) {
      let value = tokens[i + (negated ? 2 : 1)] ?? '';
      if (opt === '-s' || opt === '-d') value = hostAddress(value);
      if (opt === '-p') value = value.toLowerCase();
      base.set(opt, negated ? ['!', opt, value] : [opt, value]);
      i += negated ? 2 : 1;
      continue;
    }
    rest.push(t);
  }
  const proto = base.get('-p')?.at(-1);
  const out: string[] = [];
  for (const o of baseOrder) out.push(...(base.get(o) ?? []));
  for (let i = 0; i < rest.length; i++) {
    const t = rest[i];
    const next = rest[i + 1];
    // The protocol's own match module is implied by -p; save prints it, renders may not.
    if (t === '-m' && next !== undefined && next === proto) {
      i++;
      continue;
    }
    if ((t === '--ctstate' || t === '--state') && next !== undefined) {
      out.push(t, next.split(',').sort().join(','));
      i++;
      continue;
    }
    out.push(/\s/.test(t) || t === '' ? `"${t}"` : t);
  }
  const j = out.indexOf('-j');
  if (out[j + 1] === 'REJECT' && !out.includes('--reject-with'))
    out.push('--reject-with', 'icmp-port-unreachable');
  return out.join(' ');
}
