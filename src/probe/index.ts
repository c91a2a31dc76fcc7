// The probe: read-only script per host → pure parser → Snapshot.
export * from './script.ts';
export * from './parse.ts';
export * from './probe.ts';
export * from './observed.ts';
