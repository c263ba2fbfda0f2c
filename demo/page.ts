// What both demo tabs read from the page: elements by id and numeric URL options.

export const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/** A numeric URL option: its default when absent or not a number, else clamped to [min, max]. */
export function numberParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name);
  const v = raw === null || raw === '' ? dflt : Number(raw);
  return Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : dflt;
}
