// The kubeconfig resolver (operator/kube/config.ts): kubectl's merge rules over $KUBECONFIG's
// files, paths relative to the file that names them, and which setups are handed to client-node.
import { expect } from 'chai';
import { inClusterConfig, resolveKubeConfig } from '../../operator/kube/config.js';

const first = {
  path: '/etc/kube/first.yaml',
  text: `
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: pki/ca.crt
    tls-server-name: api.dev.internal
- name: shared
  cluster: {server: https://first.example:6443}
users:
- name: alice
  user:
    client-certificate: pki/alice.crt
    client-key: /abs/alice.key
contexts:
- name: dev
  context: {cluster: dev, user: alice, namespace: team-a}
- name: shared
  context: {cluster: shared, user: bob}
`,
};

const second = {
  path: '/home/ops/.kube/second',
  text: `
current-context: prod
clusters:
- name: shared
  cluster: {server: https://second.example:6443}
- name: prod
  cluster:
    server: https://prod.example:6443
    certificate-authority-data: Y2E=
    insecure-skip-tls-verify: true
    proxy-url: http://proxy.example:3128
users:
- name: bob
  user: {tokenFile: token}
- name: carol
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}
- name: dave
  user: {username: dave, password: secret}
contexts:
- name: prod
  context: {cluster: prod, user: carol}
- name: basic
  context: {cluster: prod, user: dave}
`,
};

describe('kubeconfig resolution', () => {
  it('takes the current context, cluster and user, with paths relative to the file', () => {
    const r = resolveKubeConfig([first]);
    expect(r.context).to.equal('dev');
    expect(r.namespace).to.equal('team-a');
    expect(r.cluster).to.include({
      name: 'dev',
      server: 'https://10.0.0.1:6443',
      caFile: '/etc/kube/pki/ca.crt',
      tlsServerName: 'api.dev.internal',
      insecure: false,
    });
    expect(r.user).to.include({
      name: 'alice',
      certFile: '/etc/kube/pki/alice.crt',
      keyFile: '/abs/alice.key',
    });
    expect(r.user.needsPlugin).to.equal(undefined);
  });

  it('merges files in order: the first current-context and the first definition of a name win', () => {
    const r = resolveKubeConfig([first, second]);
    expect(r.context).to.equal('dev');
    const shared = resolveKubeConfig([first, second], 'shared');
    expect(shared.cluster.server).to.equal('https://first.example:6443');
    // bob is defined in the second file only: his token file is relative to that file.
    expect(shared.user.tokenFile).to.equal('/home/ops/.kube/token');
    expect(resolveKubeConfig([second, first]).context).to.equal('prod');
  });

  it('keeps inline data, insecure and the proxy, and marks plugins for client-node', () => {
    const r = resolveKubeConfig([second]);
    expect(r.cluster).to.include({ caData: 'Y2E=', insecure: true, proxyUrl: 'http://proxy.example:3128' });
    expect(r.user.needsPlugin).to.equal('exec');
    const basic = resolveKubeConfig([second], 'basic');
    expect(basic.user).to.include({ username: 'dave', password: 'secret' });
    expect(basic.user.needsPlugin).to.equal(undefined);
  });

  it('names what is wrong with a kubeconfig that cannot be used', () => {
    const cases: [string, string | undefined, RegExp][] = [
      ['clusters: []\n', undefined, /no current-context/],
      ['current-context: x\ncontexts: []\n', undefined, /context 'x' is not defined/],
      [
        'current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n',
        undefined,
        /names no defined cluster/,
      ],
      [
        'current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n- name: c\n  cluster: {}\n',
        undefined,
        /cluster 'c' has no server/,
      ],
      ['current-context: [unclosed\n', undefined, /not YAML/],
      [
        'clusters: {a: 1}\ncurrent-context: x\ncontexts:\n- name: x\n  context: {cluster: a}\n',
        undefined,
        /not a list/,
      ],
      ['contexts:\n- context: {cluster: a}\n', 'x', /has no name/],
    ];
    for (const [text, context, message] of cases)
      expect(() => resolveKubeConfig([{ path: '/k', text }], context), text).to.throw(message);
  });
});

describe('in-cluster configuration', () => {
  it('uses the service host and port, and the mounted CA and token', () => {
    const r = inClusterConfig(
      { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      '/sa',
    );
    expect(r.cluster).to.include({ server: 'https://10.96.0.1:443', caFile: '/sa/ca.crt' });
    expect(r.user.tokenFile).to.equal('/sa/token');
  });

  it('brackets an IPv6 service address', () => {
    const r = inClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00:10:96::1', KUBERNETES_SERVICE_PORT: '443' });
    expect(r.cluster.server).to.equal('https://[fd00:10:96::1]:443');
  });

  it('refuses to guess outside a cluster', () => {
    expect(() => inClusterConfig({})).to.throw(/not in a cluster/);
  });
});
