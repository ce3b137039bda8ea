-- A chunk's text is compressed and kept in its row (STORAGE MAIN) rather than moved to the TOAST
-- table once compressed it still exceeds ~2 KB: a 500-word chunk compresses to 2-3 KB, so each
-- went out of line as two TOAST rows and two TOAST index entries, written at every completion
-- and read back at every fetch. A row over ~8 KB compressed is still moved out of line.
-- Affects rows written from now on.
ALTER TABLE chunks ALTER COLUMN text SET STORAGE MAIN;
