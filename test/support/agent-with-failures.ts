// `softtenant agent` with fault injection, for the end-to-end test: run as
//   node dist/test/support/agent-with-failures.js --fail-policy NS/NAME [...] <agent flags>
// Each listed policy keeps selecting its pods but allows nothing — the fail-closed treatment the
// model gives a policy it cannot program — and is reported as an InjectedFailure error. This is
// test code: the product has no such flag.
import type { RenderNode } from '../../operator/agent/ports.js';
import { run } from '../../operator/cli/agent.js';
import { effectivePolicyTypes } from '../../operator/netpol/model.js';
import { errorMessage } from '../../operator/util/errors.js';

export const INJECTED_FAILURE_MESSAGE = 'programming this policy was made to fail (--fail-policy)';

/** A render that treats the listed policies ("namespace/name") as unprogrammable. */
export function failingPolicies(fail: ReadonlySet<string>, render: RenderNode): RenderNode {
  return (snapshot, node, opts) => {
    const injected: { namespace: string; name: string; reason: string; message: string }[] = [];
    const policies = snapshot.policies.map((p) => {
      if (!fail.has(`${p.metadata.namespace ?? ''}/${p.metadata.name}`)) return p;
      injected.push({
        namespace: p.metadata.namespace ?? '',
        name: p.metadata.name,
        reason: 'InjectedFailure',
        message: INJECTED_FAILURE_MESSAGE,
      });
      const types = effectivePolicyTypes(p);
      const policyTypes = [
        ...(types.ingress ? ['Ingress' as const] : []),
        ...(types.egress ? ['Egress' as const] : []),
      ];
      return { ...p, spec: { podSelector: p.spec.podSelector, policyTypes } };
    });
    const out = render({ ...snapshot, policies }, node, opts);
    return { ...out, problems: [...injected, ...out.problems] };
  };
}

function splitArgs(argv: string[]): { fail: Set<string>; rest: string[] } {
  const fail = new Set<string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--fail-policy') fail.add(argv[++i] ?? '');
    else rest.push(argv[i]);
  }
  return { fail, rest };
}

const isMain = process.argv[1]?.endsWith('agent-with-failures.js') ?? false;
if (isMain) {
  const { fail, rest } = splitArgs(process.argv.slice(2));
  run(rest, { wrapRender: (render) => failingPolicies(fail, render) }).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`agent-with-failures: ${errorMessage(err)}\n`);
      process.exitCode = 1;
    },
  );
}
