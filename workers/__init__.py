"""RQ job functions (``workers.jobs``) and the worker entry point (``python -m workers``)."""
