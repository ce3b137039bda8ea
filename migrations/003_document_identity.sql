-- A document is identified by (tenant, source, externalId) when the client gives an externalId:
-- sending it again makes a new version when the content changed, and nothing new when it did not.
DROP INDEX documents_external_id_idx;
CREATE UNIQUE INDEX documents_external_id_key ON documents (tenant_id, source, external_id)
  WHERE external_id IS NOT NULL;
