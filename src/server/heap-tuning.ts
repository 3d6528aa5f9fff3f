// V8's heap sizing for a server process that streams request bodies (blob pushes, git pushes, uploads).
// Node's HTTP parser hands every body chunk (≤ 64 KiB) to JavaScript in a freshly allocated buffer, and
// V8 counts external memory allocated since the last full GC against the old generation's limit. When
// a full GC finds GC cheap compared with the program, it sets that limit to its minimum growth: 1.1 × the
// live heap plus the young generation's size. From then on ~5 MB of request body not yet scavenged starts
// the next full mark-compact, which sets the same limit again: a 200 MB push to the registry ran ~13 of
// them, 0.5–0.7 s of CPU spent marking a heap that did not grow (bench/registry/README.md, run 5).
// A fixed growth factor of 2 leaves room for those short-lived buffers; the heap may grow to twice its
// live size before a full GC (V8 itself picks up to 4 when a program allocates fast).
import { setFlagsFromString } from 'node:v8';

/** Old-generation growth after each full GC: the next limit is the live size × (1 + percent / 100). */
export const HEAP_GROWING_PERCENT = 100;

/**
 * Applies {@link HEAP_GROWING_PERCENT} to this process. V8 reads the flag each time it sets the limit
 * (after every full GC), so setting it after start-up takes effect from the next full GC on.
 */
export function tuneHeapForStreaming(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
