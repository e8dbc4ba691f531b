/** The store's data types live in src/shared/library.ts (the bridge carries them); re-exported here. */
export * from '../../shared/library.ts';
