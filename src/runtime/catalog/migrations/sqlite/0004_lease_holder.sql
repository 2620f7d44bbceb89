-- Who holds a running job, beyond its worker id: the host, the kernel's boot id and the
-- process (pid and start time, in clock ticks since boot). A job held by a process of this
-- machine that no longer exists is taken over at once instead of after `stale_after`.
ALTER TABLE jobs ADD COLUMN lease_host TEXT;
ALTER TABLE jobs ADD COLUMN lease_boot TEXT;
ALTER TABLE jobs ADD COLUMN lease_pid INTEGER;
ALTER TABLE jobs ADD COLUMN lease_started INTEGER;
-- The batch pages the page threads are on for this job (comma-separated), written as
-- each page starts.
ALTER TABLE jobs ADD COLUMN lease_pages TEXT;
-- The pages in progress at each death of the job's worker ("1,2;2": two deaths): a page
-- in progress at two deaths is not run again, it fails alone.
ALTER TABLE jobs ADD COLUMN died_on TEXT;
