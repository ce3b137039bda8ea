-- Documents sent as {"url": ...}: stored as message/external-body with the URL as content until
-- a worker fetches them; then the fetched bytes replace it and the URL stays here.
ALTER TABLE document_versions ADD COLUMN source_url text;
