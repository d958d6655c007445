/**
 * The core/v1 fields the observer reads or writes (k8s.io/api core/v1 types.go), as plain JSON
 * shapes: only what some caller uses, everything optional as the apiserver may omit it.
 */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion?: string; kind?: string; name?: string; uid?: string }[];
}

export interface NamespaceObject {
  metadata?: ObjectMeta;
}

export interface PodObject {
  metadata?: ObjectMeta;
  spec?: { ephemeralContainers?: { name?: string; image?: string }[] };
  status?: {
    containerStatuses?: { name?: string; image?: string; imageID?: string }[];
    ephemeralContainerStatuses?: { name?: string; image?: string; imageID?: string }[];
  };
}

export interface SecretObject {
  metadata?: ObjectMeta;
  type?: string;
  /** base64 values */
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface ConfigMapObject {
  metadata?: ObjectMeta;
  data?: Record<string, string>;
}

export interface ServiceAccountObject {
  metadata?: ObjectMeta;
  secrets?: { name?: string }[];
  imagePullSecrets?: { name?: string }[];
}

/** core/v1 Event, as KubeEventRecorder writes it. */
export interface EventObject {
  metadata: ObjectMeta;
  involvedObject: { apiVersion: string; kind: string; name: string; namespace: string; uid: string };
  type: string;
  reason: string;
  message: string;
  source: { component: string };
  reportingComponent: string;
  reportingInstance: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
}
