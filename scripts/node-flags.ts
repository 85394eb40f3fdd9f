/**
 * The V8 flags the `mlmodel` bin runs with (scripts/snapshot.ts: the
 * snapshot is built with them, and the launcher passes them to every node it
 * starts — a snapshot refuses to restore under other V8 flags).
 *
 * `--max-semi-space-size=4`: the young generation capped at 2 × 4 MB instead
 * of node's default 2 × 16 MB. A long stream (`mlmodel list` of a million
 * models) allocates steadily, so V8 grows the young generation to its cap
 * and keeps freed semi-space pages pooled beside it: measured on a 1,000,000
 * row jsonl list, 32 MB of new space plus 25–30 MB of anonymous memory outside
 * the heap's own count, against 8 MB and a flat ~25 MB with the cap — peak RSS
 * 151–177 MB → 128–134 MB (docs/performance.md section 13). What a query
 * keeps alive at once is a page of rows, far below 4 MB, so the cap costs
 * scavenges that copy little.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
