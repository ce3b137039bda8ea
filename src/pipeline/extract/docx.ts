import mammoth from 'mammoth';
import { DocumentError } from '../../errors.js';
import { corrupt } from './failures.js';
import { htmlToText } from './html.js';
import type { Extractor } from './types.js';
import { parseXml } from './xml.js';
import { readZip, writeZip } from './zip.js';

/** Word parts mammoth reads: XML and relationships. Media are skipped (images are not text). */
const neededPart = /\.(xml|rels)$/;

/**
 * Word documents through mammoth, which maps paragraph styles to HTML (Heading 1..6 to h1..h6,
 * lists, tables, footnotes), then through the HTML extractor so headings become structure.
 * mammoth opens the archive itself with an uncapped inflater, so it is given a copy rebuilt from
 * the entries our capped reader inflated, stored uncompressed: it has nothing left to inflate.
 * mammoth also walks the XML recursively, so every part's depth is checked first.
 */
export const extractDocx: Extractor = async (bytes, limits) => {
  const files = readZip(bytes, limits, (name) => neededPart.test(name));
  for (const [name, content] of files) {
    if (name.endsWith('.xml')) parseXml(content, name, limits, {});
  }
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(writeZip(files)) },
      {
        // Never follow links to files or URLs named in the document; never read image data.
        externalFileAccess: false,
        convertImage: mammoth.images.imgElement(async () => ({ src: '' })),
      },
    );
    html = result.value;
  } catch (error) {
    if (error instanceof DocumentError) throw error;
    throw corrupt('the Word document cannot be read', error);
  }
  return htmlToText(html, limits);
};
