/**
 * Credentials for one registry, as the registry client consumes them. Where they come from (a
 * docker config.json, a run's ServiceAccount secrets) is storage's concern (src/storage/credentials.ts).
 * Never logged, never part of an error message.
 */
export type RegistryCredentials =
  | { kind: 'basic'; username: string; password: string }
  /** docker config.json `identitytoken`: an OAuth2 refresh token exchanged at the token realm */
  | { kind: 'identity-token'; identityToken: string };
