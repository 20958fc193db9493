-- billing_file_mark_copy: a file whose bytes now count under another path: record it as that
-- file's copy (it adds nothing). Parameters: the counting path, reason, the copy's source_file.
UPDATE billing_files SET superseded_by = ?, reason = ? WHERE source_file = ?;
