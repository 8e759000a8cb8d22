"""The GitHub adapter: the only package that talks to GitHub.

- ``port``: the ``GitHubPort`` protocol the use cases need;
- ``client``: ``PyGithubPort``, its implementation over PyGithub's ``Requester``;
- ``app``: App JWT calls, installation tokens and building a port for an installation;
- ``errors``: GitHub's failures mapped to ``service.errors`` types;
- ``parse``: GitHub's JSON to records (pure);
- ``memo``: conditional GETs and the change-set memo;
- ``pacing``: write pacing and rate-limit pauses per installation.
"""

from .port import GitHubPort

__all__ = ["GitHubPort"]
