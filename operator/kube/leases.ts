// coordination.k8s.io/v1 Lease reads and writes for leader election, as plain JSON. Updates
// carry the resourceVersion that was read, so the API server rejects a write based on a stale
// read with 409 Conflict: of two candidates that both saw an expired lease, only one wins.
import type { KubeAccess } from './config.js';
import { ApiError, requestJson } from './raw-request.js';
import type { LeaseSpec } from './lease-decision.js';

export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  spec: LeaseSpec;
}

/** What leader election needs from the API server; `conflict` means someone else wrote (or deleted) first. */
export interface LeaseClient {
  get(): Promise<Lease | undefined>;
  create(spec: LeaseSpec): Promise<Lease | 'conflict'>;
  /** Replaces the spec of the Lease in the version `current` was read at. */
  update(current: Lease, spec: LeaseSpec): Promise<Lease | 'conflict'>;
  /** "namespace/name", for logs. */
  readonly where: string;
}

export class KubeLeaseClient implements LeaseClient {
  constructor(
    private readonly kc: KubeAccess,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  get where(): string {
    return `${this.namespace}/${this.name}`;
  }

  private get collection(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.namespace)}/leases`;
  }

  async get(): Promise<Lease | undefined> {
    try {
      return await requestJson<Lease>(this.kc, 'GET', `${this.collection}/${encodeURIComponent(this.name)}`);
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 404) return undefined;
      throw new Error(`reading Lease ${this.where}`, { cause: err });
    }
  }

  async create(spec: LeaseSpec): Promise<Lease | 'conflict'> {
    const body: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'softtenant' },
      },
      spec,
    };
    try {
      return await requestJson<Lease>(this.kc, 'POST', this.collection, body);
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 409) return 'conflict';
      throw new Error(`creating Lease ${this.where}`, { cause: err });
    }
  }

  async update(current: Lease, spec: LeaseSpec): Promise<Lease | 'conflict'> {
    const body: Lease = { ...current, spec };
    try {
      return await requestJson<Lease>(
        this.kc,
        'PUT',
        `${this.collection}/${encodeURIComponent(this.name)}`,
        body,
      );
    } catch (err) {
      // Deleted meanwhile is a change by someone else too: the caller reads again and decides.
      if (err instanceof ApiError && (err.statusCode === 409 || err.statusCode === 404)) return 'conflict';
      throw new Error(`updating Lease ${this.where}`, { cause: err });
    }
  }
}
