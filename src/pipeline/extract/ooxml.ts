import { posix } from 'node:path';
import { corrupt } from './failures.js';
import type { ExtractLimits } from './types.js';
import { attribute, parseXml, type XmlElement } from './xml.js';

// Shared by the PPTX and XLSX readers. OOXML comes in two flavours with different namespace URIs
// (Transitional, written by every office suite, and Strict), but the same local names; elements
// are matched by local name, and only attributes whose meaning depends on the namespace
// (r:id beside a plain id) look at it.

/** Relationship targets of one part, by id, resolved to archive paths ("ppt/slides/slide1.xml"). */
export function readRelationships(
  files: ReadonlyMap<string, Uint8Array>,
  part: string,
  limits: Pick<ExtractLimits, 'maxNestingDepth'>,
): Map<string, string> {
  const relsPath = posix.join(posix.dirname(part), '_rels', `${posix.basename(part)}.rels`);
  const rels = files.get(relsPath);
  const targets = new Map<string, string>();
  if (rels === undefined) return targets;
  parseXml(rels, relsPath, limits, {
    open(element) {
      if (element.local !== 'Relationship') return;
      const id = attribute(element, 'Id');
      const target = attribute(element, 'Target');
      if (id === undefined || target === undefined || attribute(element, 'TargetMode') === 'External') return;
      targets.set(id, resolveTarget(part, target));
    },
  });
  return targets;
}

/** A relationship id attribute (r:id), told apart from an unqualified `id` by having a namespace. */
export function relationshipId(element: XmlElement): string | undefined {
  for (const candidate of Object.values(element.attributes)) {
    if (candidate.local === 'id' && candidate.uri !== '') return candidate.value;
  }
  return undefined;
}

export function requirePart(files: ReadonlyMap<string, Uint8Array>, part: string): Uint8Array {
  const bytes = files.get(part);
  if (bytes === undefined) throw corrupt(`the document has no ${part}`);
  return bytes;
}

/** Targets are relative to the source part's folder, or absolute from the archive root. */
function resolveTarget(source: string, target: string): string {
  const path = target.startsWith('/') ? target.slice(1) : posix.join(posix.dirname(source), target);
  return posix.normalize(path);
}
