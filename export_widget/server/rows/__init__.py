"""Row-JSON builders for exports and the pieces they share (times, ids, sample annotations)."""
