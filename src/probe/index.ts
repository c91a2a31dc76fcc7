// The probe: read-only script per host → pure parser → Snapshot.
export * from './paths.ts';
export * from './script.ts';
export * from './parse.ts';
export * from './probe.ts';
