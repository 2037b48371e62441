// @ts-check
/* The history chart: the last hour per minute, from the service (GET api/history). */
import { api } from './api.js';
import { formatClock, plural, ui } from './dom.js';

const HISTORY_EVERY_MS = 15000;
const SVG_NS = 'http://www.w3.org/2000/svg';
const CHART = { width: 960, height: 240, left: 44, right: 60, top: 26, bottom: 30 };
/** @type {ReturnType<typeof setTimeout> | undefined} */
let historyTimer;

/**
 * One minute as GET api/history serves it.
 * @typedef {{ at: string, sessionsLive: number, rejections?: Record<string, number>,
 *   startupMs: { count: number, p50: number, p90: number, p99: number, max: number } | null }} Minute
 */
/** @typedef {Minute & { startupMs: NonNullable<Minute['startupMs']> }} StartupMinute */

/**
 * A round axis maximum (1, 2, 5 x 10^n per tick) at or above `value`, and its tick step; whole steps for counts.
 * @param {number} value
 * @param {number} [ticks]
 * @param {boolean} [whole]
 */
function niceScale(value, ticks = 4, whole = false) {
  const raw = Math.max(whole ? 1 : 0.001, value / ticks);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(whole ? 1 : 0, [1, 2, 5, 10].map((m) => m * magnitude).find((m) => m >= raw) ?? raw);
  return { max: step * Math.max(1, Math.ceil(value / step)), step };
}

/**
 * @param {string} name
 * @param {Record<string, string | number>} attributes
 * @param {string} [text]
 */
function svg(name, attributes, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** One history refresh shortly after a burst of changes. */
export function historySoon() {
  clearTimeout(historyTimer);
  historyTimer = setTimeout(() => void refreshHistory(), 1000);
}

export async function refreshHistory() {
  clearTimeout(historyTimer);
  historyTimer = setTimeout(() => void refreshHistory(), HISTORY_EVERY_MS);
  try {
    const response = await api('api/history');
    if (response.ok) drawChart(await response.json());
  } catch {
    // The health panel already says when the service is unreachable.
  }
}

/** @param {Minute} m */
const refusalsOf = (m) => Object.values(m.rejections || {}).reduce((sum, n) => sum + (Number(n) || 0), 0);

/**
 * The geometry of one drawing: scales for counts (left) and start-up times (right) over the window.
 * @param {Minute[]} minutes
 * @param {StartupMinute[]} startups
 * @param {number} windowMinutes
 */
function frameOf(minutes, startups, windowMinutes) {
  const { width, height, left, right, top, bottom } = CHART;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const end = Date.now();
  const start = end - windowMinutes * 60000;
  const counts = niceScale(Math.max(...minutes.map((m) => Math.max(m.sessionsLive, refusalsOf(m))), 1), 4, true);
  const times = niceScale(Math.max(...startups.map((m) => m.startupMs.p90), 100));
  return {
    end,
    windowMinutes,
    plotWidth,
    plotHeight,
    counts,
    times,
    minuteWidth: plotWidth / windowMinutes,
    /** @param {number} at */
    x: (at) => left + Math.max(0, Math.min(1, (at - start) / (end - start))) * plotWidth,
    /** @param {number} v */
    yCount: (v) => top + plotHeight - (v / counts.max) * plotHeight,
    /** @param {number} v */
    yMs: (v) => top + plotHeight - (v / times.max) * plotHeight,
  };
}

/** @typedef {ReturnType<typeof frameOf>} Frame */

/** Grid, axis labels and titles. @param {Frame} f @returns {Element[]} */
function axes(f) {
  const { width, height, left, top, bottom } = CHART;
  const nodes = [];
  for (let v = 0; v <= f.counts.max; v += f.counts.step) {
    nodes.push(svg('line', { class: 'grid', x1: left, x2: left + f.plotWidth, y1: f.yCount(v), y2: f.yCount(v) }));
    nodes.push(svg('text', { class: 'axis-label', x: left - 6, y: f.yCount(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  for (let v = 0; v <= f.times.max; v += f.times.step) {
    const label = v >= 1000 ? `${v / 1000} s` : `${v} ms`;
    nodes.push(svg('text', { class: 'axis-label', x: left + f.plotWidth + 6, y: f.yMs(v) + 4 }, label));
  }
  for (let ago = f.windowMinutes; ago >= 0; ago -= 15) {
    const at = f.end - ago * 60000;
    const attributes = { class: 'axis-label', x: f.x(at), y: height - bottom + 16, 'text-anchor': 'middle' };
    nodes.push(svg('text', { ...attributes, 'data-testid': 'chart-x-label' }, ago === 0 ? 'now' : `−${ago} min`));
  }
  nodes.push(svg('text', { class: 'axis-title', x: 4, y: 12 }, 'count'));
  nodes.push(svg('text', { class: 'axis-title', x: width - 4, y: 12, 'text-anchor': 'end' }, 'start-up'));
  const baseline = top + f.plotHeight;
  nodes.push(svg('line', { class: 'axis', x1: left, x2: left + f.plotWidth, y1: baseline, y2: baseline }));
  return nodes;
}

/** Refusals as bars, sessions live as a step line. @param {Frame} f @param {Minute[]} minutes */
function counts(f, minutes) {
  const nodes = [];
  for (const m of minutes) {
    const refusals = refusalsOf(m);
    if (refusals === 0) continue;
    const y = f.yCount(refusals);
    const height = CHART.top + f.plotHeight - y;
    const attributes = { class: 'refusal-bar', x: f.x(Date.parse(m.at)), y, width: Math.max(2, f.minuteWidth - 1) };
    const bar = svg('rect', { ...attributes, height, 'data-testid': 'chart-refusals' });
    bar.append(svg('title', {}, `${formatClock(new Date(m.at))}: ${plural(refusals, 'refusal')}`));
    nodes.push(bar);
  }
  if (minutes.length > 0) {
    // A step line: each minute's peak, from its start to the next minute's (the last one up to now).
    const points = minutes.flatMap((m, i) => {
      const from = f.x(Date.parse(m.at));
      const to = i + 1 < minutes.length ? f.x(Date.parse(minutes[i + 1].at)) : f.x(f.end);
      const y = f.yCount(m.sessionsLive).toFixed(1);
      return [`${from.toFixed(1)},${y}`, `${to.toFixed(1)},${y}`];
    });
    nodes.push(svg('polyline', { class: 'sessions-line', points: points.join(' '), 'data-testid': 'chart-sessions' }));
  }
  return nodes;
}

/** Start-up p50 (dots) and p90 (ticks). @param {Frame} f @param {StartupMinute[]} startups */
function startupMarks(f, startups) {
  const nodes = [];
  for (const m of startups) {
    const cx = f.x(Date.parse(m.at)) + f.minuteWidth / 2;
    const y90 = f.yMs(m.startupMs.p90);
    nodes.push(svg('line', { class: 'startup-p90', x1: cx - 4, x2: cx + 4, y1: y90, y2: y90 }));
    const at = { cx, cy: f.yMs(m.startupMs.p50), r: 3.5 };
    const dot = svg('circle', { class: 'startup-dot', ...at, 'data-testid': 'chart-startup' });
    const count = plural(m.startupMs.count, 'start-up');
    const { p50, p90 } = m.startupMs;
    dot.append(svg('title', {}, `${formatClock(new Date(m.at))}: ${count}, p50 ${p50} ms, p90 ${p90} ms`));
    nodes.push(dot);
  }
  return nodes;
}

/** Sessions live (line) and refusals (bars) on the left axis, start-up times on the right. @param {any} history */
function drawChart(history) {
  /** @type {Minute[]} */
  const minutes = Array.isArray(history && history.minutes) ? history.minutes : [];
  const windowMinutes = Number(history && history.windowMinutes) || 60;
  const startups = /** @type {StartupMinute[]} */ (minutes.filter((m) => m.startupMs));
  const frame = frameOf(minutes, startups, windowMinutes);
  ui.chart.replaceChildren(...axes(frame), ...counts(frame, minutes), ...startupMarks(frame, startups));
  const peak = Math.max(0, ...minutes.map((m) => m.sessionsLive));
  const refused = minutes.reduce((sum, m) => sum + refusalsOf(m), 0);
  const slowest = Math.max(0, ...startups.map((m) => m.startupMs.max));
  ui.chartSessionsMax.textContent = `(peak ${peak})`;
  ui.chartStartupMax.textContent = startups.length ? `(slowest ${slowest} ms)` : '(none yet)';
  ui.chartRefusals.textContent = `(${refused} in the hour)`;
}
