"""A local, git-backed stand-in for the part of GitHub's REST API and webhooks that Wavegate uses."""
