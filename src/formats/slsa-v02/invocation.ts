/**
 * SLSA v0.2 `invocation` as Chains' attest.Invocation writes it: `configSource` from
 * `status.provenance.refSource` (`{}` when absent, no remoteness check), `parameters` = spec param
 * defaults overlaid by run params, `environment` = labels and annotations (annotations without
 * `kubectl.kubernetes.io/last-applied-configuration` and `chains.tekton.dev/*`), each omitted when empty,
 * plus (our addition, top-level invocation only) the run's `namespace` and `serviceAccountName`
 * (run-identity.ts).
 */
import type { ObjectMeta, Param, ParamSpec, ParamValue, RefSource } from '../../tekton/index.ts';

export interface InvocationV02 {
  configSource: { uri?: string; digest?: Record<string, string>; entryPoint?: string };
  parameters: Record<string, ParamValue>;
  environment?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    namespace?: string;
    serviceAccountName?: string;
  };
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function invocation(
  meta: ObjectMeta,
  refSource: RefSource | undefined,
  params: readonly Param[] | undefined,
  specs: readonly ParamSpec[] | undefined,
  identity?: { namespace: string; serviceAccountName: string },
): InvocationV02 {
  const parameters: Record<string, ParamValue> = {};
  for (const s of specs ?? []) if (s.default !== undefined) parameters[s.name] = s.default;
  for (const p of params ?? []) parameters[p.name] = p.value;
  const annotations = Object.fromEntries(
    Object.entries(meta.annotations ?? {}).filter(
      ([k]) => k !== LAST_APPLIED && !k.startsWith('chains.tekton.dev/'),
    ),
  );
  const labels = { ...meta.labels };
  const environment = {
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ...identity,
  };
  return {
    configSource: configSource(refSource),
    parameters,
    ...(Object.keys(environment).length > 0 ? { environment } : {}),
  };
}

export function configSource(ref: RefSource | undefined): InvocationV02['configSource'] {
  if (!ref) return {};
  return {
    ...(ref.uri ? { uri: ref.uri } : {}),
    ...(ref.digest && Object.keys(ref.digest).length > 0 ? { digest: { ...ref.digest } } : {}),
    ...(ref.entryPoint ? { entryPoint: ref.entryPoint } : {}),
  };
}
