-- The monitor role's upkeep of `metrics`: monthly partitions older than the retention are
-- dropped whole (no DELETE, no vacuum debt), made the same way ensure_metrics_partitions names them.

-- Drops the partitions of `metrics` whose whole month ends at or before `keep_after`.
-- Only partitions named metrics_YYYY_MM are considered; returns how many were dropped.
CREATE FUNCTION drop_expired_metrics_partitions(keep_after timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  dropped integer := 0;
  partition_name text;
BEGIN
  FOR partition_name IN
    SELECT child.relname
    FROM pg_inherits
    JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
    JOIN pg_class child ON child.oid = pg_inherits.inhrelid
    WHERE parent.relname = 'metrics' AND child.relname ~ '^metrics_\d{4}_\d{2}$'
    ORDER BY child.relname
  LOOP
    IF to_date(substring(partition_name FROM 9), 'YYYY_MM') + interval '1 month' <= keep_after THEN
      EXECUTE format('DROP TABLE IF EXISTS %I', partition_name);
      dropped := dropped + 1;
    END IF;
  END LOOP;
  RETURN dropped;
END;
$$;
