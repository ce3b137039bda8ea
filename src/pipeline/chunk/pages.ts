import type { PageSpan } from '../extract/types.js';

/** Finds the 1-based pages a range [start, end) overlaps; none for formats without pages. */
export function pageFinder(pages: readonly PageSpan[]): (start: number, end: number) => number[] {
  if (pages.length === 0) return () => [];
  const ordered = [...pages].sort((a, b) => a.start - b.start || a.end - b.end);
  // Page ends ascend too for pages that do not overlap, which extractors guarantee; keep a running
  // maximum so a binary search stays correct even if one does not.
  const reach = new Float64Array(ordered.length);
  let furthest = Number.NEGATIVE_INFINITY;
  ordered.forEach((page, i) => {
    furthest = Math.max(furthest, page.end);
    reach[i] = furthest;
  });
  return (start, end) => {
    // First page that could reach past `start`.
    let low = 0;
    let high = ordered.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((reach[middle] as number) > start) high = middle;
      else low = middle + 1;
    }
    const found: number[] = [];
    for (let i = low; i < ordered.length; i++) {
      const page = ordered[i] as PageSpan;
      if (page.start >= end) break;
      // A page overlaps if it shares a character with the range; an empty page (a blank page
      // between two others) counts when it lies strictly inside the range.
      const overlaps = page.start < page.end ? page.end > start : page.start > start;
      if (overlaps && !found.includes(page.page)) found.push(page.page);
    }
    return found.sort((a, b) => a - b);
  };
}
