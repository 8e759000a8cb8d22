"""The reference scenario (DESIGN §6) played end to end on the local GitHub emulator, with the
product running as in production: the Procfile's web process (granian), an RQ worker and Redis as separate processes."""
