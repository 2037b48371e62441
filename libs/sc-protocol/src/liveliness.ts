/** The liveliness protocol: empty-bodied POSTs to `<base>/<id>?liveliness=<value>`. */
export const LIVELINESS_VALUES = ['ready', 'ping', 'disconnect'] as const;
export type Liveliness = (typeof LIVELINESS_VALUES)[number];

export const LIVELINESS_QUERY_PARAM = 'liveliness';
export const DEFAULT_LIVELINESS_UPDATE_FREQUENCY_S = 5;
export const DEFAULT_INITIAL_USE_DURATION_S = 60;

export function isLiveliness(value: unknown): value is Liveliness {
  return typeof value === 'string' && (LIVELINESS_VALUES as readonly string[]).includes(value);
}

export function livelinessUrl(base: string, id: string, value: Liveliness): string {
  const trimmed = base.replace(/\/+$/, '');
  return `${trimmed}/${encodeURIComponent(id)}?${LIVELINESS_QUERY_PARAM}=${value}`;
}
