-- A version whose extracted text is its raw content read as UTF-8, byte for byte (most plain
-- text), does not store that text a second time: extracted_text is NULL and text_is_raw true.
-- Its text is convert_from(raw_content, 'UTF8').
ALTER TABLE document_versions ADD COLUMN text_is_raw boolean NOT NULL DEFAULT false;
