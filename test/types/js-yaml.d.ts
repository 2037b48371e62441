// js-yaml ships no types and is present through the build tools; the recipes test only needs these two.
declare module 'js-yaml' {
  export function load(text: string): unknown;
  export function loadAll(text: string): unknown[];
}
