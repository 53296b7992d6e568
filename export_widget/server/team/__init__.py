"""The team server: exports on PostgreSQL, shared by any number of server processes."""
