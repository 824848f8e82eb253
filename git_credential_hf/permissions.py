"""Can this token push to that repository? Reading whoami-v2 (role, fine-grained scopes, org
roles) and the Hub's ``GET /api/{type}s/{repo}/auth-check/write``.

Used by ``status --repo`` (the pre-flight) and by ``erase``, whose "kept" line names the role or
the missing scope. Nothing here is on ``get``'s path.
"""

from __future__ import annotations

from . import hub

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

REPO_TYPES = ("model", "dataset", "space")
_PREFIXES = {"datasets": "dataset", "spaces": "space"}
WRITE_ORG_ROLES = ("write", "admin")


def repo_from_path(path: str | None) -> tuple[str, str] | None:
    """``(type, "ns/name")`` from a git URL path (``datasets/ns/name.git/info/lfs/...``)."""
    if not path:
        return None
    parts = [p for p in path.split("/") if p]
    repo_type = "model"
    if parts and parts[0] in _PREFIXES:
        repo_type, parts = _PREFIXES[parts[0]], parts[1:]
    if len(parts) < 2:
        return None
    name = parts[1]
    if name.endswith(".git"):
        name = name[:-4]
    return repo_type, f"{parts[0]}/{name}"


def _access(info: dict[str, Any]) -> dict[str, Any]:
    return (info.get("auth") or {}).get("accessToken") or {}


def _scoped_write(info: dict[str, Any], names: set[str]) -> bool:
    grained = _access(info).get("fineGrained") or {}
    if "repo.write" in (grained.get("global") or []):
        return True
    for scope in grained.get("scoped") or []:
        entity = scope.get("entity") or {}
        if entity.get("name") in names and "repo.write" in (scope.get("permissions") or []):
            return True
    return False


def _namespace_role(info: dict[str, Any], namespace: str) -> tuple[bool | None, str]:
    """May the account write in ``namespace`` at all (its own, or an org with a write role)?"""
    if namespace == info.get("name"):
        return True, f"{namespace} is your own namespace"
    for org in info.get("orgs") or []:
        if isinstance(org, dict) and org.get("name") == namespace:
            role = org.get("roleInOrg")
            if role in WRITE_ORG_ROLES:
                return True, f"your role in the organization {namespace} is {role!r}"
            if role:
                return False, (f"your role in the organization {namespace} is {role!r}: "
                               "pushing needs 'write' or 'admin'")
            return None, f"you are a member of {namespace} (role unknown)"
    return None, (f"{namespace} is neither your account nor one of your organizations "
                  "(pushing works only if its owner gave you access)")


def explain(info: dict[str, Any], repo_id: str | None = None) -> tuple[bool | None, str]:
    """``(can_write, why)`` from a whoami answer: True / False / None (cannot tell)."""
    role = hub.token_role(info)
    if role == "read":
        return False, "it is a 'read' token, which cannot push; use a 'write' token"
    if role == "fineGrained":
        if repo_id is None:
            if hub.can_write(info):
                return None, ("it is a fine-grained token; its 'repo.write' scope may not cover "
                              "this repository")
            return False, "it is a fine-grained token without 'repo.write' on anything"
        namespace = repo_id.split("/", 1)[0]
        if not _scoped_write(info, {repo_id, namespace}):
            return False, (f"it is a fine-grained token without 'repo.write' on {repo_id} or "
                           f"{namespace}; add that permission to the token on the Hub")
        ok, why = _namespace_role(info, namespace)
        return ok, f"fine-grained token with 'repo.write' on {repo_id}; {why}"
    if role not in ("write", "admin"):
        return None, f"its role is {role!r}"
    if repo_id is None:
        return None, (f"it is a {role!r} token; the account may lack access to this repository "
                      "(or the repository does not exist)")
    ok, why = _namespace_role(info, repo_id.split("/", 1)[0])
    return ok, f"it is a {role!r} token; {why}"


def auth_check(token: str, repo_type: str, repo_id: str) -> tuple[bool | None, str]:
    """The Hub's answer to ``GET /api/{type}s/{repo}/auth-check/write``: True (200), False
    (401/403), None (404: no such repository, or an endpoint without this route; or no answer)."""
    from . import settings

    base = settings.endpoint()
    url = f"{base}/api/{repo_type}s/{repo_id}/auth-check/write"
    try:
        status = hub.get_status(url, token)
    except hub.HubError as e:
        return None, f"auth-check: no answer ({e})"
    if status == 200:
        return True, "auth-check/write: 200 (allowed)"
    if status in (401, 403):
        return False, f"auth-check/write: {status} (not allowed)"
    if status == 404:
        return None, "auth-check/write: 404 (no such repository, or this Hub has no auth-check)"
    return None, f"auth-check/write: HTTP {status}"
