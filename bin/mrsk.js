#!/usr/bin/env node
// Entry point. In a checkout (src/ is there) the TypeScript sources run through tsx's loader, a
// dev dependency (no build step); an installed package ships only the compiled dist/ and runs
// that with no TypeScript loader at all.
import { existsSync, readFileSync } from 'node:fs';

// `mrsk --version` alone is answered before anything else is loaded (scripts call it often).
const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const sources = new URL('../src/cli/main.ts', import.meta.url);
  if (existsSync(sources)) {
    const { register } = await import('tsx/esm/api');
    register();
    await import(sources.href);
  } else {
    await import(new URL('../dist/cli/main.js', import.meta.url).href);
  }
}
