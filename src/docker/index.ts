// Every docker argv builder. Only src/docker knows docker's command line.
export * from './argv.ts';
export * from './container.ts';
export * from './image.ts';
export * from './network.ts';
export * from './registry.ts';
export * from './traefik.ts';
export * from './build.ts';
export * from './assets.ts';
