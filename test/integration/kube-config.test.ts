// operator/kube/config.ts against the real API server: every way a kubeconfig hands over
// credentials that the binaries read themselves, a rotated token taking effect on the next
// request, the in-cluster service account, and an exec plugin handed to client-node.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import yaml from 'js-yaml';
import { loadKubeConfig, resolveKubeConfig } from '../../operator/kube/config.js';
import { apiStatusCode } from '../../operator/kube/errors.js';
import { requestJson } from '../../operator/kube/raw-request.js';
import { kubectl } from '../support/controlplane.js';
import { tryKubectl } from '../support/kube-json.js';

const NS = 'kubeconfig-test';
const READER = 'reader';
const NOBODY = 'nobody';

/** A token for a ServiceAccount of NS (TokenRequest, 10 minutes). */
function tokenFor(account: string): string {
  return kubectl(['-n', NS, 'create', 'token', account, '--duration=10m']).trim();
}

describe('kubeconfig loading against the real API server', function () {
  let dir: string;
  let server: string;
  let caFile: string;
  let certFile: string;
  let keyFile: string;

  const writeConfig = (name: string, user: Record<string, unknown>): string => {
    const path = join(dir, name);
    writeFileSync(
      path,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'local', cluster: { server, 'certificate-authority': caFile } }],
        users: [{ name: 'u', user }],
        contexts: [{ name: 'local', context: { cluster: 'local', user: 'u' } }],
        'current-context': 'local',
      }),
    );
    return path;
  };

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'softtenant-kubeconfig-'));
    const kubeconfig = process.env.KUBECONFIG as string;
    const resolved = resolveKubeConfig([{ path: kubeconfig, text: readFileSync(kubeconfig, 'utf8') }]);
    server = resolved.cluster.server;
    caFile = resolved.cluster.caFile as string;
    certFile = resolved.user.certFile as string;
    keyFile = resolved.user.keyFile as string;
    tryKubectl(['create', 'namespace', NS]);
    for (const account of [READER, NOBODY]) tryKubectl(['-n', NS, 'create', 'serviceaccount', account]);
    tryKubectl([
      'create',
      'clusterrolebinding',
      'kubeconfig-test-reader',
      '--clusterrole=view',
      `--serviceaccount=${NS}:${READER}`,
    ]);
  });

  after(function () {
    tryKubectl(['delete', 'clusterrolebinding', 'kubeconfig-test-reader', '--ignore-not-found']);
    tryKubectl(['delete', 'namespace', NS, '--wait=false', '--ignore-not-found']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads client certificates from files and inline data', async function () {
    const files = loadKubeConfig(
      writeConfig('certs', { 'client-certificate': certFile, 'client-key': keyFile }),
    );
    const inline = loadKubeConfig(
      writeConfig('inline', {
        'client-certificate-data': readFileSync(certFile).toString('base64'),
        'client-key-data': readFileSync(keyFile).toString('base64'),
      }),
    );
    for (const kc of [files, inline]) {
      const ns = await requestJson<{ metadata: { name: string } }>(kc, 'GET', `/api/v1/namespaces/${NS}`);
      expect(ns.metadata.name).to.equal(NS);
    }
  });

  it('sends a bearer token, and reads a token file again when it is rotated', async function () {
    const inlineToken = loadKubeConfig(writeConfig('inline-token', { token: tokenFor(READER) }));
    await requestJson(inlineToken, 'GET', `/api/v1/namespaces/${NS}/serviceaccounts`);

    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, tokenFor(READER));
    const kc = loadKubeConfig(writeConfig('token-file', { tokenFile }));
    await requestJson(kc, 'GET', `/api/v1/namespaces/${NS}/serviceaccounts`);
    // The same loaded config, a new token in the file: the next request carries it.
    writeFileSync(tokenFile, `${tokenFor(NOBODY)}\n`);
    const refused = await requestJson(kc, 'GET', `/api/v1/namespaces/${NS}/serviceaccounts`).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(apiStatusCode(refused), 'the rotated token (no RBAC) must be the one sent').to.equal(403);
  });

  it('uses the in-cluster service account when no kubeconfig is named', async function () {
    const saDir = mkdtempSync(join(dir, 'sa-'));
    writeFileSync(join(saDir, 'ca.crt'), readFileSync(caFile));
    writeFileSync(join(saDir, 'token'), tokenFor(READER));
    const url = new URL(server);
    const env = {
      HOME: join(dir, 'no-home'),
      KUBERNETES_SERVICE_HOST: url.hostname,
      KUBERNETES_SERVICE_PORT: url.port,
    };
    const kc = loadKubeConfig(undefined, env, saDir);
    expect(kc.getCurrentCluster()?.name).to.equal('in-cluster');
    const list = await requestJson<{ items: unknown[] }>(
      kc,
      'GET',
      `/api/v1/namespaces/${NS}/serviceaccounts`,
    );
    expect(list.items.length).to.be.at.least(2);
    expect(() => loadKubeConfig(undefined, { HOME: env.HOME }, saDir)).to.throw(
      /no Kubernetes cluster configured/,
    );
  });

  it('hands an exec plugin to client-node and uses the credential it returns', async function () {
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: tokenFor(READER) },
    };
    const script = join(dir, 'credential.sh');
    writeFileSync(script, `#!/bin/sh\ncat <<'EOF'\n${JSON.stringify(credential)}\nEOF\n`, { mode: 0o755 });
    const kc = loadKubeConfig(
      writeConfig('exec', {
        exec: { apiVersion: 'client.authentication.k8s.io/v1', command: script, interactiveMode: 'Never' },
      }),
    );
    const list = await requestJson<{ items: unknown[] }>(
      kc,
      'GET',
      `/api/v1/namespaces/${NS}/serviceaccounts`,
    );
    expect(list.items.length).to.be.at.least(2);
  });
});
