/**
 * How the observer reaches the apiserver: the server, how to trust it, who we are. Loaded once by
 * loadKubeConfig (a kubeconfig file or the in-cluster service account); kube/KubeConnection turns
 * it into one connection pool.
 */
export interface KubeAccess {
  /** e.g. `https://10.96.0.1:443`; a path after the host (a proxy prefix) is kept */
  server: string;
  /** PEM of the CA(s) to trust; default the system's */
  ca?: string;
  /** skip verifying the server certificate (kubeconfig `insecure-skip-tls-verify`) */
  insecureSkipTlsVerify?: boolean;
  /** the name the server certificate must carry, when not the server's host (`tls-server-name`) */
  tlsServerName?: string;
  /** client certificate and key (PEM) */
  cert?: string;
  key?: string;
  /** the bearer token of each request; a file-backed one is re-read as it rotates */
  token?: () => string;
  /** the current context's namespace, when the kubeconfig names one (CLI defaults, like kubectl) */
  namespace?: string;
  /** where this came from, for messages (a file path or `in-cluster`) */
  source: string;
}
