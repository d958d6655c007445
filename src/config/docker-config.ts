import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The observer's own registry credentials: `config.json` in `dir`, else `$DOCKER_CONFIG`, else
 * `~/.docker` (a mounted kubernetes.io/dockerconfigjson Secret has the same shape). Returns the
 * parsed JSON, or undefined when there is none; a file that does not parse is an error naming it.
 */
export function readDockerConfig(dir?: string, env: NodeJS.ProcessEnv = process.env): unknown {
  const path = join(dir ?? env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`docker config ${path} is not valid JSON: ${(err as Error).message}`);
  }
}
