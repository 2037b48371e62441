/**
 * `npm run bench` (builds first): every benchmark, then ONE table. Each row is measured side by side with its
 * anchor in the same run (samples interleaved), with medians, p99 and the comparison to the anchor, the target
 * from issue 12 and PASS/MISS. `npm run bench -- spawn relay` runs only those parts.
 */
import * as burst from './burst.bench';
import * as footprint from './footprint.bench';
import * as observability from './observability.bench';
import * as relay from './relay.bench';
import * as scaleOut from './scale-out.bench';
import * as spawnBench from './spawn.bench';
import type { BenchRow } from './stats';

const PARTS: Array<[name: string, run: () => Promise<BenchRow[]>]> = [
  ['spawn', spawnBench.run],
  ['storm', burst.run],
  ['relay', relay.run],
  ['footprint', footprint.run],
  ['observability', observability.run],
  ['scale-out', scaleOut.run],
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const rows: BenchRow[] = [];
  const failures: string[] = [];
  const startedAt = Date.now();
  for (const [name, run] of PARTS) {
    if (only.length > 0 && !only.includes(name)) continue;
    const partStarted = Date.now();
    process.stderr.write(`bench: ${name}...`);
    try {
      rows.push(...(await run()));
      process.stderr.write(` ${((Date.now() - partStarted) / 1000).toFixed(1)} s\n`);
    } catch (error) {
      process.stderr.write(' failed\n');
      failures.push(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  console.log(formatTable(rows.map(toCells)));
  console.log(`(${((Date.now() - startedAt) / 1000).toFixed(0)} s in all; medians; p99 nearest-rank)`);
  for (const failure of failures) console.error(`FAILED ${failure}`);
  process.exitCode = failures.length > 0 ? 1 : 0;
}

function toCells(row: BenchRow): Record<string, string | number> {
  return {
    row: row.row,
    unit: row.unit,
    n: row.n,
    median: row.median,
    p99: row.p99,
    anchor: row.anchor,
    'anchor median': row.anchorMedian ?? '',
    'anchor p99': row.anchorP99 ?? '',
    'vs anchor': row.vsAnchor ?? '',
    target: row.target,
    result: row.pass === undefined ? '' : row.pass ? 'PASS' : 'MISS',
    note: row.note ?? '',
  };
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
