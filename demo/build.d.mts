// Types for build.mjs.
export function demoMounts(): Promise<Record<string, string | Map<string, Uint8Array | string>>>;
