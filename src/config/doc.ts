import { withGeneratedSection } from '../generated-section.ts';
import { CONFIG_ROWS, IGNORED_KEYS, UNSUPPORTED_KEYS } from './keys.ts';

/** Markers in docs/configuration.md between which `npm run docs:config` writes configDoc(). */
export const CONFIG_DOC_BEGIN =
  '<!-- config-keys:begin (generated from src/config/keys.ts by npm run docs:config) -->';
export const CONFIG_DOC_END = '<!-- config-keys:end -->';

const code = (s: string): string => `\`${s}\``;

/** The key table and the lists of Chains keys we reject or ignore, as Markdown. */
export function configDoc(): string {
  const lines = ['| key | default | allowed | live | meaning |', '|---|---|---|---|---|'];
  for (const row of CONFIG_ROWS) {
    const shown = row.shownDefault ?? (row.default === '' ? 'unset' : code(row.default));
    const live = row.live ? 'yes' : 'restart';
    lines.push(`| ${code(row.key)} | ${shown} | ${row.parse.allowed} | ${live} | ${row.doc} |`);
  }
  lines.push(
    '',
    '"live: yes" keys take effect when the mounted ConfigMap changes; a changed "restart" key is',
    'logged and reported (`provenance_observer_config_restart_needed`, `/readyz` check `config`) and',
    'the running value stays until the observer restarts.',
    '',
    '## Chains keys we do not implement',
    '',
    'Setting one of these is a start-up error naming it, not a silent no-op (and signer value `kms`):',
    `${UNSUPPORTED_KEYS.map(code).join(', ')}.`,
    '',
    'These Chains keys are accepted and have no effect:',
    `${IGNORED_KEYS.map(code).join(', ')}.`,
  );
  return lines.join('\n');
}

/** `doc` with the text between the markers replaced by configDoc(); throws when a marker is missing. */
export function withConfigDoc(doc: string): string {
  return withGeneratedSection(doc, CONFIG_DOC_BEGIN, CONFIG_DOC_END, configDoc());
}
