// The schema of SoftTenant status: what the operator observed and did, in the kstatus shape
// that Argo CD and Flux read.
import { arr, obj, str, type Schema } from './crd-schema.js';

function condition(): Schema {
  return obj(
    "One aspect of the tenant's state, in the standard Kubernetes condition shape (kstatus). Ready summarises; Reconciling and Stalled are present and True only while work is in flight or blocked; Enforced tells whether every node programs the current policies; Strict (strict tenants only) whether the tenant's ClusterNetworkPolicies are in place.",
    {
      type: str('Ready, Reconciling, Stalled, Enforced or Strict.', { maxLength: 316 }),
      status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
      reason: str('Why, as one CamelCase word that tools can match on (for example NamespaceConflict).', {
        maxLength: 1024,
      }),
      message: str('Why, for a person: what happened and what to do about it.', { maxLength: 32768 }),
      observedGeneration: {
        type: 'integer',
        format: 'int64',
        minimum: 0,
        description: 'The metadata.generation of the SoftTenant this condition was computed from.',
      },
      lastTransitionTime: str('When status last changed.', { format: 'date-time' }),
    },
    { required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'] },
  );
}

export function statusSchema(): Schema {
  return obj('What the operator observed and did. Written by the operator only.', {
    observedGeneration: {
      type: 'integer',
      format: 'int64',
      description:
        'The metadata.generation this status describes. Older than metadata.generation: not yet processed.',
    },
    namespaces: arr('The namespaces the tenant holds, sorted.', str('A namespace name.'), {
      'x-kubernetes-list-type': 'atomic',
    }),
    namespaceCount: {
      type: 'integer',
      format: 'int32',
      description: 'How many namespaces the tenant holds (the NAMESPACES column).',
    },
    policies: {
      type: 'integer',
      format: 'int32',
      description: 'How many NetworkPolicies the operator generated for the tenant (the POLICIES column).',
    },
    clusterNetworkPolicies: {
      type: 'integer',
      format: 'int32',
      description:
        'How many ClusterNetworkPolicies the operator keeps for the tenant (spec.isolation.strict; 0 otherwise).',
    },
    enforcement: obj(
      "Whether the nodes that run the tenant's pods actually program its policies, from the node agents' reports.",
      {
        nodes: {
          type: 'integer',
          format: 'int32',
          description: "Nodes that run pods of the tenant's namespaces.",
        },
        enforced: {
          type: 'integer',
          format: 'int32',
          description:
            'Of those, the nodes whose agent programs the current version of every policy of the tenant.',
        },
        summary: str('enforced/nodes, for example 2/2 (the ENFORCED column).'),
        lagging: arr(
          'The nodes that do not (yet) enforce the current policies, and why.',
          obj(
            'A node that lags.',
            {
              node: str('The node name.'),
              reason: str('Why, as a CamelCase word (for example AgentStale, ApplyFailed, Pending).'),
              message: str('Details for a person.'),
            },
            { required: ['node', 'reason'] },
          ),
          { 'x-kubernetes-list-type': 'atomic' },
        ),
        lastEnforcedSeconds: {
          type: 'number',
          description: 'Seconds from the last change of the tenant to all its nodes enforcing it.',
        },
      },
      { required: ['nodes', 'enforced'] },
    ),
    conditions: arr("The tenant's conditions, one per type.", condition(), {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
  });
}
