// The ClusterNetworkPolicy CRD vendored from sig-network's network-policy-api v0.3.0 (standard
// channel) on the real kube-apiserver: the file is the release's, byte for byte (checked through
// the Go module proxy and the checksum database), it installs, serves v1beta1 (stored) and
// v1alpha2, and its own schema and CEL rules accept valid policies and refuse invalid ones in
// both versions. Everything runs as a server-side dry run: nothing is stored.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import {
  CNP_GROUP,
  CNP_KIND,
  CNP_VERSION,
  CNP_VERSION_ALPHA,
  NETWORK_POLICY_API_VERSION,
} from '../../operator/api/clusternetworkpolicy.js';
import { kubectl, repoRoot } from '../support/controlplane.js';
import {
  CLUSTER_NETWORK_POLICY_CRD,
  installClusterNetworkPolicyCrd,
  removeCrds,
  waitForWatch,
} from '../support/crds.js';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input?: string): Run {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', env: process.env, cwd: repoRoot });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * POSTs one object straight to the API server as a dry run (nothing stored), with the field
 * validation asked for: Strict refuses unknown fields, Ignore prunes them as the schema says.
 */
function dryRun(version: string, obj: unknown, fieldValidation: 'Strict' | 'Ignore' = 'Strict'): Run {
  const path = `/apis/${CNP_GROUP}/${version}/clusternetworkpolicies?dryRun=All&fieldValidation=${fieldValidation}`;
  return run('kubectl', ['create', '--raw', path, '-f', '-'], JSON.stringify(obj));
}

type Json = Record<string, unknown>;

interface BatchResult {
  /** Object name -> the spec the server would store. */
  accepted: Map<string, Json>;
  /** Object name -> the API server's refusal. */
  refused: Map<string, string>;
  stderr: string;
}

/** Dry-run creates a List of policies: what each one became, or why it was refused. */
function dryRunBatch(objects: Json[]): BatchResult {
  // One line per object the server accepted: its name, a tab, the spec it would store (JSON).
  // --validate=false: no client-side schema check (it would stop at the first bad object); the
  // objects carry no unknown fields, so the API server's answer is the whole story.
  const r = run(
    'kubectl',
    [
      'create',
      '--dry-run=server',
      '--validate=false',
      '-o',
      'jsonpath={.metadata.name}{"\\t"}{.spec}{"\\n"}',
      '-f',
      '-',
    ],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  );
  const accepted = new Map<string, Json>();
  for (const line of r.stdout.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) accepted.set(line.slice(0, tab), JSON.parse(line.slice(tab + 1)) as Json);
  }
  const refused = new Map<string, string>();
  for (const m of r.stderr.matchAll(
    /ClusterNetworkPolicy\.policy\.networking\.k8s\.io "([^"]+)" is invalid: (.*)$/gm,
  ))
    refused.set(m[1] ?? '', m[2] ?? '');
  return { accepted, refused, stderr: r.stderr };
}

function cnp(version: string, name: string, spec: Json): Json {
  return { apiVersion: `${CNP_GROUP}/${version}`, kind: CNP_KIND, metadata: { name }, spec };
}

const base = (over: Json = {}): Json => ({
  tier: 'Admin',
  priority: 10,
  subject: { namespaces: { matchLabels: { tenant: 'a' } } },
  ...over,
});

/** A policy that uses every standard-channel field at least once. */
const full: Json = {
  tier: 'Admin',
  priority: 0,
  subject: {
    pods: {
      namespaceSelector: { matchExpressions: [{ key: 'tenant', operator: 'In', values: ['a', 'b'] }] },
      podSelector: { matchLabels: { app: 'web' } },
    },
  },
  ingress: [
    {
      name: 'deny-other-tenants',
      action: 'Deny',
      from: [{ namespaces: { matchExpressions: [{ key: 'tenant', operator: 'NotIn', values: ['a'] }] } }],
    },
    {
      action: 'Pass',
      from: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { role: 'probe' } } } }],
      protocols: [
        { tcp: { destinationPort: { number: 8080 } } },
        { udp: { destinationPort: { range: { start: 5000, end: 5100 } } } },
        { sctp: { destinationPort: { number: 9003 } } },
      ],
    },
  ],
  egress: [
    { action: 'Accept', to: [{ networks: ['10.0.0.0/8', 'fd00::/8', '192.0.2.1/32'] }] },
    { action: 'Deny', to: [{ namespaces: {} }] },
  ],
};

describe('ClusterNetworkPolicy CRD (network-policy-api, vendored) on the real API server', function () {
  this.timeout(120_000);
  let created = false;

  before(async () => {
    created = installClusterNetworkPolicyCrd();
    await waitForWatch(`/apis/${CNP_GROUP}/${CNP_VERSION}/clusternetworkpolicies`);
  });
  after(() => {
    if (created) removeCrds([CLUSTER_NETWORK_POLICY_CRD]);
  });

  it(`is the released ${NETWORK_POLICY_API_VERSION} standard-channel file, byte for byte`, () => {
    const r = run('bash', ['hack/vendor-network-policy-api.sh', '--check']);
    expect(r.status, r.stderr).to.equal(0);
  });

  it('serves v1beta1 (stored) and v1alpha2, cluster-scoped, with a status subresource', () => {
    const crd = JSON.parse(kubectl(['get', 'crd', CLUSTER_NETWORK_POLICY_CRD, '-o', 'json'])) as {
      metadata: { annotations: Record<string, string> };
      spec: {
        scope: string;
        versions: { name: string; served: boolean; storage: boolean; subresources?: { status?: object } }[];
      };
    };
    expect(crd.spec.scope).to.equal('Cluster');
    const versions = crd.spec.versions.map((v) => [
      v.name,
      v.served,
      v.storage,
      v.subresources?.status !== undefined,
    ]);
    expect(versions).to.deep.equal([
      [CNP_VERSION_ALPHA, true, false, true],
      [CNP_VERSION, true, true, true],
    ]);
    expect(crd.metadata.annotations['policy.networking.k8s.io/channel']).to.equal('standard');
    expect(crd.metadata.annotations['policy.networking.k8s.io/bundle-version']).to.equal(
      NETWORK_POLICY_API_VERSION,
    );
  });

  for (const version of [CNP_VERSION, CNP_VERSION_ALPHA]) {
    describe(`${version}`, () => {
      const valid: [string, Json][] = [
        ['every standard field', full],
        [
          'a Baseline policy with namespaces subject and no rules',
          base({ tier: 'Baseline', priority: 1000 }),
        ],
        ['pods subject with an empty podSelector only', base({ subject: { pods: { podSelector: {} } } })],
        [
          '25 ingress rules (the maximum)',
          base({
            ingress: Array.from({ length: 25 }, () => ({ action: 'Deny', from: [{ namespaces: {} }] })),
          }),
        ],
        [
          'a rule name of 100 characters',
          base({ ingress: [{ name: 'n'.repeat(100), action: 'Accept', from: [{ namespaces: {} }] }] }),
        ],
        [
          'port range 1-65535',
          base({
            egress: [
              {
                action: 'Deny',
                to: [{ namespaces: {} }],
                protocols: [{ tcp: { destinationPort: { range: { start: 1, end: 65535 } } } }],
              },
            ],
          }),
        ],
      ];
      const deny = (peer: Json): Json => base({ ingress: [{ action: 'Deny', from: [peer] }] });
      const egressTo = (peer: Json, protocols?: Json[]): Json =>
        base({ egress: [{ action: 'Deny', to: [peer], ...(protocols ? { protocols } : {}) }] });
      const tcp = (destinationPort: Json): Json[] => [{ tcp: { destinationPort } }];
      const anyNs = [{ namespaces: {} }];
      /** [what, spec, every fragment the refusal must contain] */
      const invalid: [string, Json, string[]][] = [
        // enums
        ['an unknown tier', base({ tier: 'Middle' }), ['spec.tier', 'Unsupported value: "Middle"']],
        [
          'an unknown action',
          base({ ingress: [{ action: 'Allow', from: anyNs }] }),
          ['spec.ingress[0].action', 'Unsupported value: "Allow"'],
        ],
        // numeric bounds
        ['priority 1001', base({ priority: 1001 }), ['spec.priority', 'less than or equal to 1000']],
        ['priority -1', base({ priority: -1 }), ['spec.priority', 'greater than or equal to 0']],
        [
          'port 0',
          egressTo(anyNs[0], tcp({ number: 0 })),
          ['destinationPort.number', 'greater than or equal to 1'],
        ],
        [
          'port 65536',
          egressTo(anyNs[0], tcp({ number: 65536 })),
          ['destinationPort.number', 'less than or equal to 65535'],
        ],
        // exactly one field (min/maxProperties)
        ['an empty subject', base({ subject: {} }), ['spec.subject', 'should have at least 1 properties']],
        [
          'a subject with namespaces and pods',
          base({ subject: { namespaces: {}, pods: { podSelector: {} } } }),
          ['spec.subject', 'must have at most 1 item'],
        ],
        ['an empty peer', deny({}), ['spec.ingress[0].from[0]', 'should have at least 1 properties']],
        [
          'a peer with namespaces and pods',
          deny({ namespaces: {}, pods: { podSelector: {} } }),
          ['spec.ingress[0].from[0]', 'must have at most 1 item'],
        ],
        [
          'a protocol with tcp and udp',
          egressTo(anyNs[0], [
            { tcp: { destinationPort: { number: 1 } }, udp: { destinationPort: { number: 1 } } },
          ]),
          ['spec.egress[0].protocols[0]', 'must have at most 1 item'],
        ],
        [
          'tcp without destinationPort',
          egressTo(anyNs[0], [{ tcp: {} }]),
          ['spec.egress[0].protocols[0].tcp', 'should have at least 1 properties'],
        ],
        [
          'a port with number and range',
          egressTo(anyNs[0], tcp({ number: 80, range: { start: 1, end: 2 } })),
          ['destinationPort', 'must have at most 1 item'],
        ],
        // list sizes
        [
          'an empty from',
          base({ ingress: [{ action: 'Deny', from: [] }] }),
          ['spec.ingress[0].from', 'should have at least 1 items'],
        ],
        [
          '26 ingress rules',
          base({ ingress: Array.from({ length: 26 }, () => ({ action: 'Deny', from: anyNs })) }),
          ['spec.ingress', 'must have at most 25 items'],
        ],
        ['an empty networks list', egressTo({ networks: [] }), ['networks', 'should have at least 1 items']],
        [
          'a repeated network',
          egressTo({ networks: ['10.0.0.0/8', '10.0.0.0/8'] }),
          ['networks[1]', 'Duplicate value'],
        ],
        // required fields and string length
        [
          'a rule without action',
          base({ egress: [{ to: anyNs }] }),
          ['spec.egress[0].action', 'Required value'],
        ],
        [
          'pods without podSelector',
          deny({ pods: { namespaceSelector: {} } }),
          ['podSelector', 'Required value'],
        ],
        ['a missing subject', { tier: 'Admin', priority: 1 }, ['spec.subject', 'Required value']],
        [
          'a rule name of 101 characters',
          base({ ingress: [{ name: 'n'.repeat(101), action: 'Deny', from: anyNs }] }),
          ['spec.ingress[0].name', 'may not be more than 100 bytes'],
        ],
        // CEL
        [
          'a port range with start = end',
          egressTo(anyNs[0], tcp({ range: { start: 80, end: 80 } })),
          ['destinationPort.range', 'Start port must be less than End port'],
        ],
        [
          'a port range with start > end',
          egressTo(anyNs[0], tcp({ range: { start: 90, end: 80 } })),
          ['Start port must be less than End port'],
        ],
        [
          'a CIDR with host bits',
          egressTo({ networks: ['10.0.0.1/8'] }),
          ['networks[0]', 'Invalid CIDR format provided'],
        ],
        [
          'an address that is no CIDR',
          egressTo({ networks: ['10.0.0.1'] }),
          ['networks[0]', 'Invalid CIDR format provided'],
        ],
        [
          'an IPv6 CIDR with host bits',
          egressTo({ networks: ['fd00::1/8'] }),
          ['Invalid CIDR format provided'],
        ],
      ];
      // One dry run per list (the API server answers each object on its own), so the cases cost
      // a few requests rather than one kubectl process each.
      let validRun: BatchResult;
      let invalidRun: BatchResult;
      before(() => {
        validRun = dryRunBatch(valid.map(([, spec], i) => cnp(version, `valid-${i}`, spec)));
        invalidRun = dryRunBatch(invalid.map(([, spec], i) => cnp(version, `invalid-${i}`, spec)));
      });
      valid.forEach(([what, spec], i) => {
        it(`accepts ${what}`, () => {
          expect(validRun.refused.get(`valid-${i}`), validRun.stderr).to.equal(undefined);
          const stored = validRun.accepted.get(`valid-${i}`);
          expect(stored, validRun.stderr).to.not.equal(undefined);
          expect(stored).to.deep.equal(spec);
        });
      });
      invalid.forEach(([what, , fragments], i) => {
        it(`refuses ${what}`, () => {
          const refusal = invalidRun.refused.get(`invalid-${i}`);
          expect(refusal, `accepted: ${JSON.stringify(invalidRun.accepted.get(`invalid-${i}`))}`).to.be.a(
            'string',
          );
          for (const f of fragments) expect(refusal).to.include(f);
        });
      });

      it('refuses networks as an ingress peer, and experimental-channel fields (standard channel)', () => {
        for (const [spec, field] of [
          [deny({ networks: ['10.0.0.0/8'] }), 'spec.ingress[0].from[0].networks'],
          [egressTo({ nodes: {} }), 'spec.egress[0].to[0].nodes'],
          [egressTo({ domainNames: ['kubernetes.io'] }), 'spec.egress[0].to[0].domainNames'],
          [
            base({
              egress: [
                { action: 'Accept', to: [{ namespaces: {} }], protocols: [{ destinationNamedPort: 'web' }] },
              ],
            }),
            'spec.egress[0].protocols[0].destinationNamedPort',
          ],
        ] as const) {
          const r = dryRun(version, cnp(version, 'cnp-experimental', spec));
          expect(r.status, `accepted: ${r.stdout}`).to.not.equal(0);
          expect(r.stderr).to.include(`unknown field "${field}"`);
        }
      });

      it('prunes an experimental peer when the client does not ask for strict fields, and then refuses the empty peer', () => {
        // What an older or experimental-channel client meets: the field is dropped, the peer is
        // empty, and minProperties refuses it; nothing half-understood is stored.
        const r = dryRun(version, cnp(version, 'cnp-pruned', egressTo({ nodes: {} })), 'Ignore');
        expect(r.status, `accepted: ${r.stdout}`).to.not.equal(0);
        expect(r.stderr).to.include('spec.egress[0].to[0]').and.include('should have at least 1 properties');
      });
    });
  }
});
