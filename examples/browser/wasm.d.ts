// esbuild's `file` loader: importing a .wasm file gives its URL path (relative to the bundle).
declare module '*.wasm' {
  const path: string;
  export default path;
}
