-- A chunk row's values are compressed and kept in the row (STORAGE MAIN) rather than moved to
-- the TOAST table once the row passes ~2 KB: a 500-word chunk compresses to 2-3 KB, so each went
-- out of line as two TOAST rows and two TOAST index entries, written at every completion and
-- read back at every fetch. Every variable-length column is MAIN: Postgres moves columns of
-- the default storage (EXTENDED) out of line before it compresses MAIN ones, so a text alone in
-- MAIN would push a chunk's pages, heading path or tenant out instead. A row over ~8 KB
-- compressed still goes out of line. Affects rows written from now on.
ALTER TABLE chunks
  ALTER COLUMN text SET STORAGE MAIN,
  ALTER COLUMN tenant_id SET STORAGE MAIN,
  ALTER COLUMN settings_hash SET STORAGE MAIN,
  ALTER COLUMN pages SET STORAGE MAIN,
  ALTER COLUMN heading_path SET STORAGE MAIN;
