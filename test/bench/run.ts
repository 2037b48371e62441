/**
 * Runs the benchmarks one after another and prints each result as a table.
 * `npm run bench` (builds first). To add a benchmark: write test/bench/<name>.bench.ts exporting
 * `run(): Promise<Array<Record<string, string | number>>>` (and optionally `title`), then list it below.
 */
import * as simStartup from './sim-startup.bench';
import * as proxy from './proxy.bench';
import * as spawnLatency from './spawn-latency.bench';
import * as observability from './observability.bench';

interface BenchModule {
  title?: string;
  run(): Promise<Array<Record<string, string | number>>>;
}

const BENCHMARKS: Array<[name: string, module: BenchModule]> = [
  ['sim-startup', simStartup],
  ['spawn-latency', spawnLatency],
  ['proxy', proxy],
  ['observability', observability],
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  let failed = 0;
  for (const [name, bench] of BENCHMARKS) {
    if (only.length > 0 && !only.includes(name)) continue;
    const heading = `${name}: ${bench.title ?? ''}`.replace(/: $/, '');
    console.log(`\n=== ${heading} ===`);
    const startedAt = Date.now();
    try {
      const rows = await bench.run();
      console.log(formatTable(rows));
      console.log(`(${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failed++;
      console.error(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

/** An aligned text table: numbers right-aligned, everything else left-aligned. */
export function formatTable(rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return '(no results)';
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => columns.map((column) => String(row[column] ?? '')));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i].length)));
  const numeric = columns.map((column) =>
    rows.every((row) => typeof row[column] === 'number' || row[column] === undefined || row[column] === ''),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => (numeric[i] ? value.padStart(widths[i]) : value.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.map(line)].join('\n');
}

void main();
