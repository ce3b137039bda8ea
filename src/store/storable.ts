/**
 * Postgres text and jsonb refuse NUL characters, and jsonb refuses lone UTF-16 surrogates (which
 * JSON.stringify writes as \udxxx escapes). Extractors already drop NULs from text; this is the
 * last guard for anything a library hands back, such as a heading title cut inside an emoji.
 */
export function storable(text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', '') : wellFormed;
}
