DROP INDEX foods_id_hash_idx;
