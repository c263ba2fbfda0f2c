// End of the static data; the JS allocator in bindings/ hands out memory above it.
export function heapBase(): usize {
  return __heap_base;
}
