"""A bare git repository driven through the git CLI: blobs, trees, commits, refs, merges, diffs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
ZERO_SHA = "0" * 40


class GitError(Exception):
    """A git command failed; ``stderr`` holds git's message."""


@dataclass(frozen=True)
class Signature:
    """Author or committer of a commit; ``date`` is an ISO 8601 string (UTC)."""

    name: str
    email: str
    date: str


@dataclass(frozen=True)
class DiffEntry:
    """One changed path between two commits, GitHub's status vocabulary."""

    filename: str
    status: str  # added | removed | modified | renamed
    additions: int
    deletions: int
    previous_filename: str | None
    sha: str  # blob SHA on the new side (old side for removed files)


class GitRepo:
    """A bare repository at ``path``; every method shells out to ``git``."""

    def __init__(self, path: Path):
        self.path = Path(path)

    # -- plumbing -------------------------------------------------------------------------------
    def run(self, *args: str, input: bytes | None = None, env: dict | None = None, check: bool = True) -> str:
        """Run ``git args`` in the repository and return stdout (text); raise GitError on failure."""
        full_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.path), "LC_ALL": "C"}
        if env:
            full_env.update(env)
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), *args], input=input, capture_output=True, env=full_env
        )
        if check and proc.returncode != 0:
            raise GitError(proc.stderr.decode("utf-8", "replace").strip())
        return proc.stdout.decode("utf-8", "surrogateescape")

    def init(self, default_branch: str) -> None:
        """Create the bare repository with ``default_branch`` as HEAD."""
        self.path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "--bare", "-q", "-b", default_branch, str(self.path)], check=True)

    # -- objects --------------------------------------------------------------------------------
    def write_blob(self, content: bytes) -> str:
        """Store ``content`` as a loose blob object and return its SHA.

        Written directly (zlib-compressed ``blob <size>\\0<content>`` under objects/xx/…, git's loose
        object format) because one ``git hash-object`` process per file is too slow for big trees.
        """
        raw = b"blob %d\x00" % len(content) + content
        sha = hashlib.sha1(raw).hexdigest()
        target = self.path / "objects" / sha[:2] / sha[2:]
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{sha[2:]}")
            tmp.write_bytes(zlib.compress(raw))
            os.replace(tmp, target)
        return sha

    def write_blobs(self, contents: list[bytes]) -> list[str]:
        """Store many blobs in one pack (``git fast-import``) and return their SHAs, in order.

        One process for the whole batch: writing thousands of loose objects one by one is slow.
        """
        if len(contents) < 16:
            return [self.write_blob(c) for c in contents]
        stream = bytearray()
        shas = []
        for content in contents:
            shas.append(hashlib.sha1(b"blob %d\x00" % len(content) + content).hexdigest())
            stream += b"blob\ndata %d\n" % len(content) + content + b"\n"
        self.run("fast-import", "--quiet", "--done", input=bytes(stream) + b"done\n")
        return shas

    def object_type(self, sha: str) -> str | None:
        """``blob``/``tree``/``commit``/``tag`` for an existing object, else None."""
        out = self.run("cat-file", "-t", sha, check=False).strip()
        return out or None

    def read_blob(self, sha: str) -> bytes:
        """The raw bytes of blob ``sha``."""
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), "cat-file", "blob", sha], capture_output=True
        )
        if proc.returncode != 0:
            raise GitError(proc.stderr.decode().strip())
        return proc.stdout

    def build_tree(self, base_tree: str | None, changes: list[tuple[str, str, str | None]]) -> str:
        """Apply ``changes`` [(path, mode, blob_sha or None to delete)] to ``base_tree``; return the tree SHA."""
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if base_tree:
                self.run("read-tree", base_tree, env=env)
            else:
                self.run("read-tree", "--empty", env=env)
            lines = []
            for path, mode, sha in changes:
                if sha is None:
                    lines.append(f"0 {ZERO_SHA}\t{path}")
                else:
                    lines.append(f"{mode} {sha}\t{path}")
            if lines:
                self.run("update-index", "--index-info", input=("\n".join(lines) + "\n").encode(), env=env)
            return self.run("write-tree", env=env).strip()

    def commit_tree(self, tree: str, parents: list[str], message: str, author: Signature,
                    committer: Signature | None = None) -> str:
        """Create a commit object and return its SHA."""
        committer = committer or author
        args = ["commit-tree", tree]
        for p in parents:
            args += ["-p", p]
        env = {
            "GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email, "GIT_AUTHOR_DATE": author.date,
            "GIT_COMMITTER_NAME": committer.name, "GIT_COMMITTER_EMAIL": committer.email,
            "GIT_COMMITTER_DATE": committer.date,
        }
        return self.run(*args, input=message.encode(), env=env).strip()

    def commit_info(self, sha: str) -> dict:
        """{sha, tree, parents, author{name,email,date}, committer{...}, message} of a commit."""
        fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
        out = self.run("show", "-s", f"--format={fmt}", sha)
        parts = out.split("\x00")
        return {
            "sha": parts[0], "tree": parts[1], "parents": parts[2].split(),
            "author": {"name": parts[3], "email": parts[4], "date": parts[5]},
            "committer": {"name": parts[6], "email": parts[7], "date": parts[8]},
            "message": parts[9].rstrip("\n"),
        }

    def ls_tree(self, treeish: str, recursive: bool) -> list[dict]:
        """Entries of a tree: [{path, mode, type, sha, size}] (size None for trees)."""
        args = ["ls-tree", "-z", "--long"]
        if recursive:
            args += ["-r", "-t"]
        out = self.run(*args, treeish)
        entries = []
        for item in out.split("\x00"):
            if not item:
                continue
            meta, path = item.split("\t", 1)
            mode, typ, sha, size = meta.split()
            entries.append({"path": path, "mode": mode, "type": typ, "sha": sha,
                            "size": None if size == "-" else int(size)})
        return entries

    def file_at(self, commit: str, path: str) -> tuple[str, str] | None:
        """(type, sha) of ``path`` in ``commit``'s tree, or None when missing."""
        out = self.run("ls-tree", "-z", commit, "--", path, check=False)
        for item in out.split("\x00"):
            if item:
                meta, p = item.split("\t", 1)
                if p == path:
                    _mode, typ, sha = meta.split()
                    return typ, sha
        return None

    # -- refs -----------------------------------------------------------------------------------
    def rev_parse(self, rev: str) -> str | None:
        """The commit SHA ``rev`` names, or None."""
        out = self.run("rev-parse", "-q", "--verify", f"{rev}^{{commit}}", check=False).strip()
        return out or None

    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        """{full ref name: sha} under ``prefix``."""
        out = self.run("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        return dict(line.split(" ", 1) for line in out.splitlines() if line)

    def ref_sha(self, ref: str) -> str | None:
        """SHA of the full ref name ``ref`` or None."""
        out = self.run("rev-parse", "-q", "--verify", ref, check=False).strip()
        return out or None

    def update_ref(self, ref: str, sha: str) -> None:
        """Point the full ref ``ref`` at ``sha``."""
        self.run("update-ref", ref, sha)

    def delete_ref(self, ref: str) -> None:
        """Delete the full ref ``ref``."""
        self.run("update-ref", "-d", ref)

    # -- history --------------------------------------------------------------------------------
    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when ``ancestor`` is reachable from ``descendant``."""
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), "merge-base", "--is-ancestor", ancestor, descendant],
            capture_output=True,
        )
        return proc.returncode == 0

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of two commits, or None."""
        out = self.run("merge-base", a, b, check=False).strip()
        return out or None

    def rev_list(self, include: str, exclude: str | None = None) -> list[str]:
        """Commits reachable from ``include`` but not ``exclude``, oldest first."""
        args = ["rev-list", "--reverse", include]
        if exclude:
            args.append(f"^{exclude}")
        return self.run(*args).split()

    def merge_trees(self, ours: str, theirs: str) -> str | None:
        """Three-way merge of two commits (``git merge-tree --write-tree``): the tree SHA, None on conflict."""
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), "merge-tree", "--write-tree", "--no-messages", ours, theirs],
            capture_output=True,
        )
        # exit status 1 means conflicts: the written tree holds conflict markers and must not be used
        if proc.returncode != 0:
            return None
        first = proc.stdout.decode().split("\n", 1)[0].strip()
        return first or None

    def diff(self, old: str, new: str) -> list[DiffEntry]:
        """Changed paths from commit ``old`` to ``new`` with rename detection, like GitHub's file lists."""
        status_out = self.run("diff", "--no-ext-diff", "-M", "--raw", "-z", "--no-abbrev", old, new)
        num_out = self.run("diff", "--no-ext-diff", "-M", "--numstat", "-z", old, new)
        raw = status_out.split("\x00")
        entries: list[tuple[str, str, str | None, str, str]] = []
        i = 0
        while i < len(raw) - 1:
            meta = raw[i]
            if not meta.startswith(":"):
                i += 1
                continue
            _om, _nm, osha, nsha, status = meta[1:].split()
            code = status[0]
            if code in "RC":
                entries.append((code, raw[i + 2], raw[i + 1], osha, nsha))
                i += 3
            else:
                entries.append((code, raw[i + 1], None, osha, nsha))
                i += 2
        nums: list[tuple[int, int]] = []
        tokens = num_out.split("\x00")
        j = 0
        while j < len(tokens):
            tok = tokens[j]
            if not tok:
                j += 1
                continue
            add, dele, path = tok.split("\t", 2)
            a = 0 if add == "-" else int(add)
            d = 0 if dele == "-" else int(dele)
            nums.append((a, d))
            j += 3 if path == "" else 1
        names = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "added", "T": "modified"}
        result = []
        for k, (code, path, prev, osha, nsha) in enumerate(entries):
            a, d = nums[k] if k < len(nums) else (0, 0)
            result.append(DiffEntry(path, names.get(code, "modified"), a, d, prev,
                                    osha if code == "D" else nsha))
        return result
