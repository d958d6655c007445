#!/usr/bin/env node
// The package's command. Runs the compiled build when present (container images), else the
// TypeScript sources directly (Node >= 22.18 strips types natively).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
await import(existsSync(compiled) ? compiled.href : new URL('../src/cli/main.ts', import.meta.url).href);
