export * from './command-line';
export * from './liveliness';
export * from './exit-codes';
export * from './viewer';
export * from './argv-value';
export * from './close-codes';
