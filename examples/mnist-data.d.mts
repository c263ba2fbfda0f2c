// Types for mnist-data.mjs.
export interface Digits {
  /** Images, PIXELS values in [0, 1] each, one after the other. */
  x: Float32Array;
  /** Their digits 0..9. */
  y: Int32Array;
}
export declare const PIXELS: 784;
export declare function digitsFromParts(parts: ArrayLike<number>[]): Digits;
export declare function loadAllDigits(): Digits;
export declare function fetchDigits(baseUrl: string | URL): Promise<Digits>;
