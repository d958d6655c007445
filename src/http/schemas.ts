/**
 * JSON schemas of the lookup API: params and queries are validated before any handler or access
 * review runs (a malformed request costs no apiserver call); responses are serialised through
 * their schema, so a field not declared here never reaches a client.
 */

/** Kubernetes namespace (DNS-1123 label). */
export const namespaceSchema = {
  type: 'string',
  maxLength: 63,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
} as const;
/** Kubernetes object name (DNS-1123 subdomain). */
export const nameSchema = {
  type: 'string',
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
} as const;
export const digestSchema = {
  type: 'string',
  pattern: '^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$',
} as const;
export const idSchema = { type: 'string', pattern: '^[a-f0-9]{64}$' } as const;

const runKeySchema = {
  type: 'object',
  required: ['kind', 'namespace', 'name'],
  properties: { kind: { type: 'string' }, namespace: { type: 'string' }, name: { type: 'string' } },
} as const;

/** An entry's place in the decision log and its inclusion proof (index/log/log-proofs.ts LogProof). */
export const logProofSchema = {
  type: 'object',
  required: ['index', 'treeSize', 'leafHash', 'inclusionProof'],
  properties: {
    index: { type: 'integer' },
    treeSize: { type: 'integer' },
    leafHash: { type: 'string' },
    entry: { type: 'string' },
    inclusionProof: { type: 'array', items: { type: 'string' } },
    checkpoint: { type: 'string' },
  },
} as const;

export const attestationSchema = {
  type: 'object',
  required: ['id', 'run', 'predicateType', 'subjects', 'keyId', 'storage', 'createdAt'],
  properties: {
    id: { type: 'string' },
    run: { ...runKeySchema, properties: { ...runKeySchema.properties, uid: { type: 'string' } } },
    predicateType: { type: 'string' },
    subjects: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, digest: { type: 'string' }, producedBy: { type: 'string' } },
      },
    },
    keyId: { type: 'string' },
    origin: { type: 'string', enum: ['observer', 'chains'] },
    log: logProofSchema,
    storage: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          backend: { type: 'string' },
          ok: { type: 'boolean' },
          locations: { type: 'array', items: { type: 'string' } },
          error: { type: 'string' },
        },
      },
    },
    skipped: {
      type: 'array',
      items: {
        type: 'object',
        properties: { source: { type: 'string' }, code: { type: 'string' }, reason: { type: 'string' } },
      },
    },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const runStateSchema = {
  type: 'object',
  required: ['uid', 'status', 'attempts', 'updatedAt'],
  properties: {
    uid: { type: 'string' },
    status: { type: 'string', enum: ['attested', 'failed', 'pending'] },
    attempts: { type: 'integer' },
    lastError: { type: 'string' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const envelopeSchema = {
  type: 'object',
  required: ['payloadType', 'payload', 'signatures'],
  properties: {
    payloadType: { type: 'string' },
    payload: { type: 'string' },
    signatures: {
      type: 'array',
      items: { type: 'object', properties: { keyid: { type: 'string' }, sig: { type: 'string' } } },
    },
  },
} as const;

export const keysResponseSchema = {
  type: 'object',
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['keyId', 'algorithm', 'publicKeyPem', 'active'],
        properties: {
          keyId: { type: 'string' },
          algorithm: { type: 'string' },
          publicKeyPem: { type: 'string' },
          active: { type: 'boolean' },
          /** set for a tenant key (`?namespace=`): the `signing.tenant-keys` tenant it belongs to */
          tenant: { type: 'string' },
        },
      },
    },
  },
} as const;

/** The body of every error answer. */
export const errorSchema = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
} as const;

/** Responses every authenticated route may give besides its 200. */
export const authErrorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
} as const;
