-- Real documents: where a version came from (filename), the structure found while extracting
-- (headings, pages) so re-chunking never re-extracts, and per-chunk pages, heading path and the
-- hash of the settings that made it.

ALTER TABLE document_versions
  ADD COLUMN filename text,
  ADD COLUMN extracted_structure jsonb,        -- {"headings":[{level,title,start}],"pages":[{page,start,end}]}
  ADD COLUMN detected_type text,               -- what the bytes turned out to be (may differ from content_type)
  ADD COLUMN rechunk_settings jsonb;           -- a requested re-chunk not yet done; the job carries ids only

ALTER TABLE chunks
  ADD COLUMN pages integer[] NOT NULL DEFAULT '{}',
  ADD COLUMN heading_path jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN settings_hash text NOT NULL DEFAULT '';
