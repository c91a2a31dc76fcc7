// Every argv builder of a container runtime (Docker, Podman) and of the local image builder. Only src/runtime knows their command lines.
export * from './argv.ts';
export * from './host-wait.ts';
export * from './container.ts';
export * from './image.ts';
export * from './network.ts';
export * from './registry.ts';
export * from './traefik.ts';
export * from './build.ts';
export * from './assets.ts';
export * from './runtime.ts';
export * from './health-watch.ts';
export * from './connections.ts';
