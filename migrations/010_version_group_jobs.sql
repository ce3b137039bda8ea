-- The BullMQ job that carries a version together with others committed with it (a group job),
-- or NULL when the version has a job of its own. The sweeper reads it so that a version still
-- waiting in a live group job is left alone rather than given a second job.
ALTER TABLE document_versions ADD COLUMN queue_job_id text;
