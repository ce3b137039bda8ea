import type { Heading } from '../extract/types.js';

/**
 * Finds the heading path at any offset: the titles of the headings whose sections enclose it,
 * outermost first. A heading opens a section that runs to the next heading of its level or
 * above; a deeper heading nests inside it. Offsets before the first heading have no path.
 */
export function headingPathFinder(
  headings: readonly Heading[],
  textLength: number,
): (offset: number) => string[] {
  if (headings.length === 0) return () => [];
  // Extractors give headings in document order; sort anyway (stable) so a slip cannot misfile chunks.
  const ordered = headings
    .map((heading) => ({ ...heading, start: Math.min(Math.max(heading.start, 0), textLength) }))
    .sort((a, b) => a.start - b.start);
  const starts = ordered.map((heading) => heading.start);
  const paths: string[][] = [];
  const stack: { level: number; title: string }[] = [];
  for (const heading of ordered) {
    while (stack.length > 0 && (stack.at(-1)?.level ?? 0) >= heading.level) stack.pop();
    stack.push(heading);
    paths.push(stack.map((open) => open.title));
  }
  return (offset) => {
    // The last heading starting at or before the offset decides (several may share a start).
    let low = -1;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((starts[middle] as number) <= offset) low = middle;
      else high = middle - 1;
    }
    return low < 0 ? [] : [...(paths[low] as string[])];
  };
}

/**
 * Offsets where sections begin, ascending and distinct, always starting with 0: text before the
 * first heading is a section of its own (with no heading path).
 */
export function sectionStarts(headings: readonly Heading[], textLength: number): number[] {
  const starts = new Set<number>([0]);
  for (const heading of headings) {
    if (heading.start > 0 && heading.start < textLength) starts.add(heading.start);
  }
  return [...starts].sort((a, b) => a - b);
}
