"""Evidence: photos (records, keys, derivatives), safe image inspection (images) and tus resumable uploads (uploads)."""
