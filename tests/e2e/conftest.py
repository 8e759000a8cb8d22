"""End-to-end tests run the emulator, Wavegate under gunicorn, an RQ worker and Redis as separate
processes on loopback (demo.stack.Stack). Redis database 10 is theirs."""

REDIS_URL = "redis://127.0.0.1:6379/10"
