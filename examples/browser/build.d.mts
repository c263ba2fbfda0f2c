export function buildExample(outdir?: string): Promise<string>;
