import { corrupt } from './failures.js';
import { readRelationships, relationshipId, requirePart } from './ooxml.js';
import { TextWriter } from './text-writer.js';
import type { ExtractLimits, Extractor } from './types.js';
import { attribute, parseXml } from './xml.js';
import { readZip } from './zip.js';

const presentationPart = 'ppt/presentation.xml';
const slidePath = /^ppt\/slides\/slide(\d+)\.xml$/;

/** One slide's text: its title (if a title placeholder has text) and its shapes' paragraphs. */
interface SlideText {
  title: string | undefined;
  /** Shapes in reading order, the title shape first; each a list of paragraphs. */
  shapes: string[][];
}

/**
 * PowerPoint: the text of each slide in presentation order (p:sldIdLst, which is what the
 * audience sees, not the file numbering), each slide a level-1 heading named by its title
 * placeholder or "Slide N". Speaker notes and slide masters are left out.
 */
export const extractPptx: Extractor = async (bytes, limits) => {
  const files = readZip(
    bytes,
    limits,
    (name) => name === presentationPart || name === 'ppt/_rels/presentation.xml.rels' || slidePath.test(name),
  );
  const writer = new TextWriter(limits.maxTextChars);
  slideOrder(files, limits).forEach((part, index) => {
    const slide = readSlide(requirePart(files, part), part, limits);
    writer.markHeading(1, slide.title ?? `Slide ${index + 1}`);
    for (const shape of slide.shapes) {
      for (const paragraph of shape) {
        // <a:br/> was kept as \n: a line break inside the paragraph.
        for (const line of paragraph.split('\n')) {
          writer.write(line);
          writer.breakLine();
        }
      }
      writer.breakParagraph();
    }
  });
  return writer.finish();
};

function slideOrder(files: ReadonlyMap<string, Uint8Array>, limits: ExtractLimits): string[] {
  const presentation = files.get(presentationPart);
  if (presentation === undefined) throw corrupt(`the presentation has no ${presentationPart}`);
  const targets = readRelationships(files, presentationPart, limits);
  const ordered: string[] = [];
  parseXml(presentation, presentationPart, limits, {
    open(element) {
      if (element.local !== 'sldId') return;
      const target = targets.get(relationshipId(element) ?? '');
      if (target !== undefined && files.has(target)) ordered.push(target);
    },
  });
  if (ordered.length > 0) return ordered;
  // No usable slide list (a damaged or minimal file): fall back to the numbering of the parts.
  return [...files.keys()]
    .filter((name) => slidePath.test(name))
    .sort((a, b) => Number(slidePath.exec(a)?.[1]) - Number(slidePath.exec(b)?.[1]));
}

function readSlide(bytes: Uint8Array, part: string, limits: ExtractLimits): SlideText {
  const shapes: { isTitle: boolean; paragraphs: string[] }[] = [];
  let shape: { isTitle: boolean; paragraphs: string[] } | undefined;
  let paragraph: string[] | undefined;
  let inText = false;
  parseXml(bytes, part, limits, {
    open(element) {
      switch (element.local) {
        case 'sp':
        case 'graphicFrame':
          // Shapes do not nest text bodies inside text bodies; a group's shapes come one by one.
          shape = { isTitle: false, paragraphs: [] };
          break;
        case 'ph': {
          const type = attribute(element, 'type');
          if (shape !== undefined && (type === 'title' || type === 'ctrTitle')) shape.isTitle = true;
          break;
        }
        case 'p':
          paragraph = [];
          break;
        case 't':
          inText = true;
          break;
        case 'br':
          paragraph?.push('\n');
          break;
        case 'tab':
          paragraph?.push(' ');
          break;
      }
    },
    close(element) {
      switch (element.local) {
        case 'sp':
        case 'graphicFrame':
          if (shape !== undefined && shape.paragraphs.length > 0) shapes.push(shape);
          shape = undefined;
          break;
        case 'p':
          if (paragraph !== undefined && paragraph.join('').trim() !== '')
            shape?.paragraphs.push(paragraph.join(''));
          paragraph = undefined;
          break;
        case 't':
          inText = false;
          break;
      }
    },
    text(text) {
      if (inText) paragraph?.push(text);
    },
  });
  const titleShape = shapes.find((candidate) => candidate.isTitle);
  const title = titleShape?.paragraphs.join(' ').replace(/\s+/g, ' ').trim();
  const ordered = titleShape === undefined ? shapes : [titleShape, ...shapes.filter((s) => s !== titleShape)];
  return { title: title === '' ? undefined : title, shapes: ordered.map((s) => s.paragraphs) };
}
