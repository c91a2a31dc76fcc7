#!/usr/bin/env node
// Entry point. In a checkout the TypeScript sources run through tsx's loader (no build step);
// an installed package, which ships only the compiled dist/, runs that.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
