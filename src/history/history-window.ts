/** One minute of the service's history, as `GET /api/history` serves it. */
export interface HistoryMinute {
  /** The minute's start (ISO time). */
  at: string;
  /** The most sessions live at once during the minute (warm servers waiting in the pool are not sessions). */
  sessionsLive: number;
  /** Start-up times of the servers that became ready in the minute (ms, nearest rank); null when none did. */
  startupMs: { count: number; p50: number; p90: number; p99: number; max: number } | null;
  /** Spawn requests refused in the minute, by reason (see sc_spawner_spawn_rejections_total). */
  rejections: Record<string, number>;
}

export interface HistorySnapshot {
  minuteSeconds: number;
  windowMinutes: number;
  /** Oldest first, one entry per minute since the service started, at most windowMinutes. */
  minutes: HistoryMinute[];
}

export const MINUTE_MS = 60_000;
export const WINDOW_MINUTES = 60;
/** Start-up samples kept per minute for its percentiles; past it every other sample is dropped (bounded memory). */
export const MAX_SAMPLES_PER_MINUTE = 256;

interface Bucket {
  start: number;
  sessionsLive: number;
  /** The live count last written in the minute, carried into the minutes that follow without a bucket. */
  liveAtEnd: number;
  startupMs: number[];
  /** Every `stride`-th start-up sample is kept once the bucket has been thinned. */
  stride: number;
  seen: number;
  rejections: Map<string, number>;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/**
 * A rolling record per minute over the last hour: sessions live, start-up times, rejections. Pure: the time of
 * each observation is given; memory is bounded (WINDOW_MINUTES buckets of at most MAX_SAMPLES_PER_MINUTE samples).
 */
export class HistoryWindow {
  private readonly buckets: Bucket[] = [];
  private live = 0;
  /** The live count at the end of the last minute dropped from the window. */
  private liveBeforeWindow = 0;

  constructor(
    private readonly startedAt: number,
    private readonly windowMinutes = WINDOW_MINUTES,
  ) {}

  sessionsLive(now: number, count: number): void {
    this.live = count;
    const bucket = this.bucketAt(now);
    bucket.sessionsLive = Math.max(bucket.sessionsLive, count);
    bucket.liveAtEnd = count;
  }

  startup(now: number, ms: number): void {
    const bucket = this.bucketAt(now);
    bucket.seen++;
    if (bucket.seen % bucket.stride !== 0) return;
    bucket.startupMs.push(ms);
    if (bucket.startupMs.length >= MAX_SAMPLES_PER_MINUTE) {
      bucket.startupMs = bucket.startupMs.filter((_, i) => i % 2 === 1);
      bucket.stride *= 2;
    }
  }

  rejected(now: number, reason: string): void {
    const rejections = this.bucketAt(now).rejections;
    rejections.set(reason, (rejections.get(reason) ?? 0) + 1);
  }

  /** How many samples are held (for the memory bound). */
  get size(): number {
    return this.buckets.reduce((sum, b) => sum + 1 + b.startupMs.length + b.rejections.size, 0);
  }

  /** `toDate`: how a time of the clock's is shown (the minutes are on the clock's own minutes). */
  snapshot(now: number, toDate: (t: number) => Date = (t) => new Date(t)): HistorySnapshot {
    this.bucketAt(now);
    const current = floorMinute(now);
    const first = Math.max(floorMinute(this.startedAt), current - (this.windowMinutes - 1) * MINUTE_MS);
    const minutes: HistoryMinute[] = [];
    let carried = this.liveBeforeWindow;
    for (let start = first; start <= current; start += MINUTE_MS) {
      const bucket = this.buckets.find((b) => b.start === start);
      minutes.push(minuteOf(toDate(start), bucket, bucket ? bucket.sessionsLive : carried));
      if (bucket) carried = bucket.liveAtEnd;
    }
    return { minuteSeconds: MINUTE_MS / 1000, windowMinutes: this.windowMinutes, minutes };
  }

  /** The bucket of `now`, created (carrying the live count over) and the window trimmed as time moves on. */
  private bucketAt(now: number): Bucket {
    const start = floorMinute(now);
    let bucket = this.buckets[this.buckets.length - 1];
    if (!bucket || bucket.start < start) {
      const live = this.live;
      bucket = { start, sessionsLive: live, liveAtEnd: live, startupMs: [], stride: 1, seen: 0, rejections: new Map() };
      this.buckets.push(bucket);
      const oldest = start - (this.windowMinutes - 1) * MINUTE_MS;
      while (this.buckets[0].start < oldest) this.liveBeforeWindow = this.buckets.shift()!.liveAtEnd;
    }
    return bucket;
  }
}

function floorMinute(time: number): number {
  return Math.floor(time / MINUTE_MS) * MINUTE_MS;
}

function minuteOf(start: Date, bucket: Bucket | undefined, live: number): HistoryMinute {
  const sorted = [...(bucket?.startupMs ?? [])].sort((a, b) => a - b);
  return {
    at: start.toISOString(),
    sessionsLive: live,
    startupMs:
      sorted.length === 0
        ? null
        : {
            count: bucket!.seen,
            p50: percentile(sorted, 50),
            p90: percentile(sorted, 90),
            p99: percentile(sorted, 99),
            max: sorted[sorted.length - 1],
          },
    rejections: Object.fromEntries(bucket?.rejections ?? []),
  };
}
