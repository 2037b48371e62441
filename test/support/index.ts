/**
 * Helpers shared by the end-to-end tests and benchmarks. Each registers what it starts with a Cleanup,
 * so nothing (process, port, socket, timer, temp dir) outlives a test:
 *
 *   const cleanup = useCleanup();                       // afterEach: kill / close / remove everything
 *   const receiver = await startLivelinessReceiver({ cleanup });
 *   const options = await simulatorOptions({ livelinessUpdateFrequency: 0.2 }, receiver.url);
 *   const sim = startSimulator(options, { cleanup });  // the real apps/sc-server-sim/bin/ts3d_sc_server
 *   await receiver.waitForReport(options.id!, 'ready');
 *   const viewer = await connectViewer(`ws://127.0.0.1:${options.scPort}`, { cleanup });
 *
 * Outside Jest (benchmarks, scripts) use withCleanup(async (cleanup) => ...).
 */
export * from './wait';
export * from './ports';
export * from './processes';
export * from './temp';
export * from './liveliness-receiver';
export * from './simulator';
export * from './viewer-client';
export * from './system-packages';
export * from './relay';
